"""Endpoint health: when one endpoint keeps failing, the session stops sending to it and says so in one line.

Counted per finished call (after its retries), so scattered faults that retries cure never trip it.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass

FAILURE_STREAK = 20  # consecutive calls ending in a transient error (a non-transient error neither adds nor resets)
FAILURE_WINDOW = 50  # ... or more than half of the last this-many calls ended in an error of any kind


@dataclass(frozen=True)
class EndpointFailure:
    """Why an endpoint was given up on: its (redacted) URL or spec, the last error and how many calls failed."""

    endpoint: str
    last_error: str
    failed: int
    seen: int

    def line(self) -> str:
        """One line for the user: the endpoint, the last status/error and the fix."""
        return (f"endpoint {self.endpoint} is failing ({self.failed} of the last {self.seen} calls failed; "
                f"last error: {self.last_error}); fix: check that the server is up and reachable at that URL "
                "(or pass the right --<role>-base-url), then rerun the same command to resume")


class EndpointHealth:
    """Outcomes of one endpoint's recent calls; `failure` is set once and stays set."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._lock = threading.Lock()
        self._recent: collections.deque[bool] = collections.deque(maxlen=FAILURE_WINDOW)
        self._streak = 0
        self.failure: EndpointFailure | None = None

    def record(self, error: str | None, transient: bool) -> EndpointFailure | None:
        """Note one finished call (error None = success); returns the failure if this call tripped it."""
        with self._lock:
            failed = error is not None
            self._recent.append(failed)
            if not failed:
                self._streak = 0
            elif transient:
                self._streak += 1
            if self.failure is not None or not failed:
                return None
            window_failed = sum(self._recent)
            if self._streak >= FAILURE_STREAK:
                self.failure = EndpointFailure(self.endpoint, error, self._streak, self._streak)
            elif len(self._recent) == FAILURE_WINDOW and window_failed * 2 > FAILURE_WINDOW:
                self.failure = EndpointFailure(self.endpoint, error, window_failed, FAILURE_WINDOW)
            return self.failure
