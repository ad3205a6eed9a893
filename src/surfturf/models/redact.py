"""Secrets never leave the model layer: every configured key, and any credential in a URL, becomes `***`.

Keys are registered where they are read (specs.py); error texts, URLs and log records pass through `redact`.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
MIN_SECRET_CHARS = 6  # shorter values ("EMPTY", "x") would mask ordinary words, and guard nothing

_lock = threading.Lock()
_secrets: set[str] = set()
_ordered: tuple[str, ...] = ()
_URL_CREDENTIAL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s:@]*:[^/\s@]*@")


def register_secret(value: str | None) -> None:
    """Remember a key (or URL password) so that `redact` masks it wherever it shows up."""
    global _ordered
    if not value or len(value) < MIN_SECRET_CHARS:
        return
    with _lock:
        if value not in _secrets:
            _secrets.add(value)
            _ordered = tuple(sorted(_secrets, key=len, reverse=True))  # longest first: no half-masked keys


def redact(text: str) -> str:
    """`text` with every registered secret and every `user:password@` URL credential replaced by `***`."""
    if not text:
        return text
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    return _URL_CREDENTIAL.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)


def redact_url(url: str | None) -> str | None:
    """A URL fit to show: user info replaced by `***`, registered secrets masked (e.g. in a query)."""
    if url is None:
        return None
    parts = urlsplit(url)
    if "@" in parts.netloc:
        parts = parts._replace(netloc=f"{MASK}@{parts.netloc.rpartition('@')[2]}")
    return redact(urlunsplit(parts))


def strip_credentials(url: str) -> str:
    """The URL without user info: what identifies a server (the cache key), not who logs in."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's final message, so no handler ever formats a key."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_filter() -> None:
    """Put the filter on the "surfturf" logger and every surfturf.* logger made so far (filters on a
    parent do not see records propagated from children)."""
    names = ["surfturf", *(n for n in logging.root.manager.loggerDict if n.startswith("surfturf."))]
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
