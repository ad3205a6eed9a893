"""Retry policy (exponential backoff with full jitter, at least the server's Retry-After) and which errors are transient."""

from __future__ import annotations

import random
from dataclasses import dataclass

# Errors a later attempt (or a rerun) may cure; the session retries all but endpoint_down, which it sets itself.
TRANSIENT_KINDS = frozenset({"rate_limit", "server", "timeout", "connection", "malformed", "endpoint_down"})
RETRIED_KINDS = TRANSIENT_KINDS - {"endpoint_down"}


def error_kind(error: str | None) -> str | None:
    """The kind in a `"<kind>: <detail>"` error text."""
    return None if error is None else error.partition(":")[0].strip()


def is_transient(error: str | None) -> bool:
    """True for errors a rerun should retry (rate_limit, server, timeout, connection, malformed,
    endpoint_down); False for budget, parse, bad_request, auth, other and for no error."""
    return error_kind(error) in TRANSIENT_KINDS


@dataclass(frozen=True)
class RetryPolicy:
    """`max_retries` extra attempts after the first; waits are uniform in [0, min(cap, base * 2**n)]."""

    max_retries: int = 6
    base_s: float = 0.5
    cap_s: float = 30.0
    max_retry_after_s: float = 120.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to sleep after failed attempt number `attempt` (0-based)."""
        jitter = random.uniform(0.0, min(self.cap_s, self.base_s * 2**attempt))
        if retry_after is not None:
            return max(min(retry_after, self.max_retry_after_s), jitter)
        return jitter
