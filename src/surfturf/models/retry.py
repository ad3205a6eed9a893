"""Retry policy: exponential backoff with full jitter, at least the server's Retry-After."""

from __future__ import annotations

import random
from dataclasses import dataclass


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
