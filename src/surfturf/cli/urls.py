"""Base URLs are checked when a role is resolved, so `--target-base-url notaurl` is a usage error
rather than a run of calls that all fail as timeouts."""

from __future__ import annotations

from urllib.parse import urlsplit

from surfturf.errors import UserError
from surfturf.models.redact import redact_url


def check_base_url(role: str, url: str | None) -> str | None:
    """`url` unchanged when it is http(s) with a host (or None); a UserError naming the flag otherwise."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"--{role}-base-url {redact_url(url)!r} is not an http(s) URL with a host",
                        f"pass e.g. --{role}-base-url http://127.0.0.1:8000/v1")
    return url
