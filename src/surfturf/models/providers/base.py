"""The provider interface and the one error type providers raise; the session turns errors into results."""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from surfturf.models.specs import Endpoint
from surfturf.models.types import GenerateConfig, Message

DETAIL_LIMIT = 300


class ProviderError(Exception):
    """A failed call: `kind` decides whether it is retried (`surfturf.models.retry.RETRIED_KINDS`); `retry_after` is the server's requested wait."""

    def __init__(self, kind: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after


@dataclass
class Completion:
    """What a provider returns for one chat call; `latency_s` when the provider knows its own working time
    better than the session's clock (an in-process model that first waits for its lock)."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    thinking: str | None = None
    latency_s: float | None = None


class ClientPool:
    """One SDK client per (endpoint, event loop), shared by every provider on that endpoint, so all roles and
    model names on one server use one connection pool. HTTP pools cannot cross loops, and a session may be
    driven from several (sync wrappers, threads); a client closes when the last provider using it lets go."""

    def __init__(self) -> None:
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, tuple[Any, set[int]]]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, key: Hashable, make: Callable[[], Any], user: object) -> Any:
        """The running loop's client for `key`, made on first use; `user` is remembered until `release`."""
        clients = self._loops.setdefault(asyncio.get_running_loop(), {})
        entry = clients.get(key)
        if entry is None:
            entry = clients[key] = (make(), set())
        entry[1].add(id(user))
        return entry[0]

    async def release(self, user: object) -> None:
        """Forget `user`; close the running loop's clients nobody uses any more (another loop's cannot be awaited
        here, so those are dropped unclosed)."""
        current = asyncio.get_running_loop()
        for loop, clients in list(self._loops.items()):
            for key, (client, users) in list(clients.items()):
                users.discard(id(user))
                if users:
                    continue
                del clients[key]
                if loop is current:
                    await client.close()


CLIENTS = ClientPool()


class Provider:
    """Base class: one instance per (session, endpoint). Subclasses implement `chat` and/or `embed`."""

    cacheable = True  # False for providers whose answers are cheaper to recompute than to look up
    metered = True  # False for local embedders: their work is not a model call the budget caps

    def __init__(self, endpoint: Endpoint, timeout_s: float) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s

    async def chat(self, messages: list[Message], config: GenerateConfig) -> Completion:
        raise ProviderError("bad_request", f"{self.endpoint.spec} cannot chat")

    async def embed(self, texts: list[str]) -> tuple[np.ndarray, int]:
        """Vectors (n x d float32, L2-normalised) and the input tokens billed."""
        raise ProviderError("bad_request", f"{self.endpoint.spec} cannot embed")

    async def server_limits(self) -> ServerLimits:
        """The server's own limits, for servers that report them (llama.cpp's slots); unknown by default."""
        return ServerLimits()

    async def aclose(self) -> None:
        """Release network clients; local providers hold nothing."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.endpoint.spec}, base_url={self.endpoint.base_url!r})"


@dataclass(frozen=True)
class ServerLimits:
    """What a server says it can take: parallel slots and context length; None where it does not say."""

    slots: int | None = None
    context_tokens: int | None = None


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date); None if absent."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def short(text: str, limit: int = DETAIL_LIMIT) -> str:
    """One line of at most `limit` characters, for error details."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def server_message(body: Any) -> str:
    """The server's own words from an error body: OpenAI's and Anthropic's `error.message`, FastAPI's `detail`,
    any other JSON, or plain text (the SDKs keep only `error.message` in their exception text)."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            for field in ("message", "detail", "msg"):
                if isinstance(inner.get(field), str) and inner[field]:
                    return inner[field]
            if "detail" in inner:
                return json.dumps(inner["detail"], default=str)
        elif isinstance(inner, str) and inner:
            return inner
        return json.dumps(body, default=str)
    return "" if body is None else str(body)


def status_error(status: int, body: Any, headers: Any, overloaded: tuple[int, ...] = (408,)) -> ProviderError:
    """Map an HTTP error status onto our error kinds (429 and 5xx, and `overloaded`, are retried), keeping the
    server's message."""
    retry_after = parse_retry_after(headers)
    message = server_message(body)
    detail = f"HTTP {status}: {short(message, DETAIL_LIMIT)}" if message else f"HTTP {status}"
    if status == 429:
        return ProviderError("rate_limit", detail, retry_after)
    if status >= 500 or status in overloaded:
        return ProviderError("server", detail, retry_after)
    if status in (401, 403):
        return ProviderError("auth", detail)
    return ProviderError("bad_request", detail)


def transport_error(error: BaseException) -> ProviderError:
    """timeout or connection, from the exception chain: the SDKs' aiohttp transport reports a refused
    connection as a connect *timeout*, so the root cause decides."""
    import aiohttp

    seen = error
    while seen is not None:
        if isinstance(seen, (aiohttp.ClientConnectorError, ConnectionError)) or (
            isinstance(seen, OSError) and not isinstance(seen, TimeoutError)
        ):
            return ProviderError("connection", short(str(seen)) or type(seen).__name__)
        seen = seen.__cause__ or seen.__context__
    return ProviderError("timeout", "no response in time")


def normalise(vectors: np.ndarray, dtype: npt.DTypeLike = np.float32, out: np.ndarray | None = None,
              empty: np.ndarray | None = None) -> np.ndarray:
    """The rows of a matrix (or one vector) scaled to unit L2 length, as `dtype`: the one home of
    vector normalisation, for embedders, clustering, search and the world's features alike.

    A zero row stays zero, or takes `empty`'s row (a centroid without members keeps its place).
    With `out` (a matrix's buffer reused block after block, e.g. `out=vectors` in place) the norms
    come from one einsum pass rather than np.linalg.norm's block-sized temporary of squares; the
    two round the last bit differently, and each caller keeps the one its stored figures were made with.
    """
    vectors = np.asarray(vectors, dtype=dtype)
    if out is not None:
        norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]
    elif vectors.ndim == 2:
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    else:
        norms = np.linalg.norm(vectors)
    unit = np.divide(vectors, np.where(norms == 0, 1.0, norms), out=out)
    return unit if empty is None else np.where(norms > 0, unit, empty)
