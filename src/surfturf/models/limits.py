"""Process-wide limits per endpoint: in-flight bound and rpm/tpm buckets, safe across threads and event loops.

asyncio primitives belong to one loop, so these keep their state under a threading lock and wake waiters
on their own loops; 15 runs in one process then share one bound instead of multiplying it.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from dataclasses import dataclass, field


class EndpointSlots:
    """A counting semaphore usable from any event loop in any thread; the bound is the smallest one asked for,
    capped by the server's own slot count once known. A pause (after a 429) holds back every caller."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_use = 0
        self._waiters: collections.deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = collections.deque()
        self._requests: collections.Counter[int] = collections.Counter()
        self._server_slots: int | None = None
        self._paused_until = 0.0
        self.discovery_claimed = False  # set by the first session to ask the server for its limits

    @property
    def limit(self) -> int:
        with self._lock:
            return self._limit_locked()

    def cap_at_server_slots(self, slots: int) -> None:
        """The server serves `slots` requests at once: more in flight would only queue there (and time out)."""
        with self._lock:
            self._server_slots = max(1, slots)

    def pause(self, seconds: float) -> None:
        """Hold every new request to this endpoint back for `seconds` (the server asked us to slow down)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def paused_for(self) -> float:
        with self._lock:
            return max(0.0, self._paused_until - time.monotonic())

    @property
    def in_use(self) -> int:
        return self._in_use

    def register(self, limit: int) -> None:
        with self._lock:
            self._requests[limit] += 1

    def unregister(self, limit: int) -> None:
        """Drop one session's bound; when the last session leaves, forget what the server said, since the next
        server at this address (a restart, a reused port) may serve a different number of slots."""
        with self._lock:
            self._requests[limit] -= 1
            if self._requests[limit] <= 0:
                del self._requests[limit]
            if not self._requests:
                self._server_slots = None
                self.discovery_claimed = False
            self._hand_over_locked()

    def _limit_locked(self) -> int:
        limit = min(self._requests) if self._requests else 1_000_000
        return min(limit, self._server_slots) if self._server_slots is not None else limit

    async def acquire(self) -> None:
        """Wait out any pause, then for a slot; a pause that began meanwhile is waited out holding none."""
        while True:
            wait = self.paused_for()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._acquire_slot()
            if self.paused_for() <= 0:
                return
            self.release()

    async def _acquire_slot(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._in_use < self._limit_locked() and not self._waiters:
                self._in_use += 1
                return
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, future))
        try:
            await future
        except asyncio.CancelledError:
            with self._lock:
                granted = future.done() and not future.cancelled()
                try:
                    self._waiters.remove((loop, future))
                except ValueError:
                    pass
            if granted:
                self.release()
            raise

    def release(self) -> None:
        with self._lock:
            self._in_use -= 1
            self._hand_over_locked()

    def _hand_over_locked(self) -> None:
        """Give free slots to waiters in arrival order, each resolved on its own loop."""
        while self._waiters and self._in_use < self._limit_locked():
            loop, future = self._waiters.popleft()
            if future.done() or loop.is_closed():
                continue
            self._in_use += 1
            loop.call_soon_threadsafe(self._grant, future)

    def _grant(self, future: asyncio.Future[None]) -> None:
        if future.done():  # cancelled between hand-over and wake-up: the slot goes back
            self.release()
        else:
            future.set_result(None)

    async def __aenter__(self) -> EndpointSlots:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()


@dataclass
class RateBucket:
    """A token bucket refilled continuously (capacity per minute); reservations may go negative and then wait."""

    per_minute: float
    _level: float = field(init=False)
    _stamp: float = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._level = self.per_minute
        self._stamp = time.monotonic()

    def reserve(self, amount: float) -> float:
        """Take `amount` now and return how long to wait before it is covered."""
        with self._lock:
            now = time.monotonic()
            rate = self.per_minute / 60.0
            self._level = min(self.per_minute, self._level + (now - self._stamp) * rate)
            self._stamp = now
            self._level -= min(amount, self.per_minute)
            return 0.0 if self._level >= 0 else -self._level / rate

    async def wait(self, amount: float) -> None:
        delay = self.reserve(amount)
        if delay > 0:
            await asyncio.sleep(delay)


class _Registry:
    """The process's one table of limits, keyed by endpoint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.slots: dict[str, EndpointSlots] = {}
        self.buckets: dict[tuple[str, str, float], RateBucket] = {}

    def slots_for(self, key: str) -> EndpointSlots:
        with self._lock:
            return self.slots.setdefault(key, EndpointSlots())

    def bucket_for(self, key: str, kind: str, per_minute: float) -> RateBucket:
        with self._lock:
            return self.buckets.setdefault((key, kind, per_minute), RateBucket(per_minute))


REGISTRY = _Registry()
