"""A real local HTTP server speaking OpenAI chat/embeddings and Anthropic messages, with scriptable faults.

Use it three ways: `async with FakeLLMServer() as server` in the running loop; `with FakeLLMServer().in_thread()`
for sync code (its own loop in a daemon thread); or `python -m surfturf.testing.server --latency-ms 200` in
a separate process (prints its base URL as the first stdout line) so a benchmark's client has its own core.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import hashlib
import json
import math
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from aiohttp import web

from surfturf.models.providers.base import normalise

Responder = Callable[[list[dict[str, Any]], str], str]
FAULT_KINDS = ("429", "500", "hang", "malformed")
SAMPLING_FIELDS = ("temperature", "top_p", "top_k")
ANTHROPIC_SAMPLING_VERSION = "2023-06-01"


def echo_responder(messages: list[dict[str, Any]], model: str) -> str:
    """Default answer: deterministic and tied to the request, so tests can tell answers apart."""
    last = next((m for m in reversed(messages) if m.get("role") == "user"), {"content": ""})
    content = last["content"]
    if isinstance(content, list):  # Anthropic content blocks
        content = " ".join(block.get("text", "") for block in content if isinstance(block, dict))
    return f"echo[{model}]: {content}"


def _tokens(text: str) -> int:
    return max(1, len(text.split()))


def _content_text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(block.get("text", "") for block in content if isinstance(block, dict))
    return str(content)


@dataclass
class Fault:
    """One scripted failure: kind in 429, 500, hang, malformed; `retry_after` seconds for 429."""

    kind: str
    retry_after: float | None = None


@dataclass
class Reply:
    """One scripted raw reply: any status and body (a dict goes as JSON), to mimic other servers' shapes."""

    status: int
    body: Any


@dataclass
class Received:
    """One request as the server saw it, for tests that assert what an SDK client really sends."""

    path: str
    headers: dict[str, str]
    body: Any


class FakeLLMServer:
    """The server plus its script. Counters (`requests`, `max_in_flight`, `paths`) are readable from any thread."""

    def __init__(
        self,
        responder: Responder = echo_responder,
        latency_ms: float = 0.0,
        latency_sigma: float | None = None,
        embed_dim: int = 16,
        hang_s: float = 3600.0,
        seed: int = 0,
    ) -> None:
        self.responder = responder
        self.latency_ms = latency_ms
        self.latency_sigma = latency_sigma
        self.embed_dim = embed_dim
        self.hang_s = hang_s
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.paths: collections.Counter[str] = collections.Counter()
        self.headers_seen: list[dict[str, str]] = []
        self.received: list[Received] = []
        self._faults: collections.deque[Fault | Reply] = collections.deque()
        self._always: Fault | None = None
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._runner: web.AppRunner | None = None
        self._stop: asyncio.Event | None = None
        self.port = 0

    # -- script ----------------------------------------------------------------------------------

    def set_latency(self, ms: float, sigma: float | None = None) -> None:
        """Fixed latency, or lognormal with median `ms` and log-space spread `sigma`."""
        self.latency_ms, self.latency_sigma = ms, sigma

    def fail_next(self, n: int, kind: str, retry_after: float | None = None) -> None:
        """The next `n` requests fail with `kind`; later ones succeed (N failures then success)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {kind!r} not in {FAULT_KINDS}")
        with self._lock:
            self._faults.extend(Fault(kind, retry_after) for _ in range(n))

    def reply_next(self, status: int, body: Any) -> None:
        """The next request gets this raw reply (e.g. `{"detail": ...}`, plain text, or `{"choices": []}`)."""
        with self._lock:
            self._faults.append(Reply(status, body))

    def fail_always(self, kind: str | None, retry_after: float | None = None) -> None:
        """Every request fails with `kind` until called with None."""
        if kind is not None and kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {kind!r} not in {FAULT_KINDS}")
        with self._lock:
            self._always = Fault(kind, retry_after) if kind else None

    def reset_counts(self) -> None:
        with self._lock:
            self.requests = 0
            self.max_in_flight = self.in_flight
            self.paths.clear()
            self.headers_seen.clear()
            self.received.clear()

    @property
    def root_url(self) -> str:
        """Base URL for the Anthropic SDK (it appends /v1/messages)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """Base URL for the OpenAI SDK and OpenAI-compatible specs."""
        return f"{self.root_url}/v1"

    # -- serving ---------------------------------------------------------------------------------

    def _next_fault(self) -> Fault | Reply | None:
        with self._lock:
            if self._faults:
                return self._faults.popleft()
            return self._always

    async def _delay(self) -> None:
        if self.latency_ms <= 0:
            return
        ms = self.latency_ms
        if self.latency_sigma:
            ms = self.latency_ms * math.exp(self._random.gauss(0.0, self.latency_sigma))
        await asyncio.sleep(ms / 1000.0)

    async def _handle(self, request: web.Request, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> web.Response:
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.paths[request.path] += 1
            self.headers_seen.append(dict(request.headers))
        try:
            body = await request.json()
            with self._lock:
                self.received.append(Received(request.path, dict(request.headers), body))
            fault = self._next_fault()
            await self._delay()
            if isinstance(fault, Reply):
                if isinstance(fault.body, str):
                    return web.Response(text=fault.body, status=fault.status)
                return web.json_response(fault.body, status=fault.status)
            if fault is not None:
                if fault.kind == "hang":
                    assert self._stop is not None
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), self.hang_s)
                    return web.json_response({"error": {"message": "hung"}}, status=504)
                if fault.kind == "429":
                    headers = {"retry-after": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
                    return web.json_response({"error": {"message": "rate limited", "type": "rate_limit_error"}},
                                             status=429, headers=headers)
                if fault.kind == "500":
                    return web.json_response({"error": {"message": "boom", "type": "server_error"}}, status=500)
                if fault.kind == "malformed":
                    return web.Response(text='{"id": "x", "choices": [', content_type="application/json")
            return web.json_response(answer(body))
        finally:
            with self._lock:
                self.in_flight -= 1

    def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages", [])
        model = body.get("model", "")
        text = self.responder(messages, model)
        prompt = sum(_tokens(_content_text(m.get("content", ""))) for m in messages)
        completion = _tokens(text)
        return {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }

    def _embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        inputs = body.get("input", [])
        inputs = [inputs] if isinstance(inputs, str) else inputs
        data = []
        for i, text in enumerate(inputs):
            seed = int.from_bytes(hashlib.sha256(str(text).encode()).digest()[:8], "little")
            vector = np.random.default_rng(seed).standard_normal(self.embed_dim)
            data.append({"object": "embedding", "index": i, "embedding": normalise(vector, np.float64).tolist()})
        tokens = sum(_tokens(str(t)) for t in inputs)
        return {"object": "list", "data": data, "model": body.get("model", ""),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}

    def _messages(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = list(body.get("messages", []))
        system = body.get("system")
        if system:
            messages = [{"role": "system", "content": _content_text(system)}, *messages]
        model = body.get("model", "")
        text = self.responder(messages, model)
        content: list[dict[str, Any]] = []
        if isinstance(body.get("thinking"), dict) and body["thinking"].get("type") == "enabled":
            content.append({"type": "thinking", "thinking": "considering the request", "signature": "fake-signature"})
        content.append({"type": "text", "text": text})
        prompt = sum(_tokens(_content_text(m.get("content", ""))) for m in messages)
        return {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": prompt, "output_tokens": _tokens(text)},
        }

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._post_chat)
        app.router.add_post("/v1/embeddings", self._post_embeddings)
        app.router.add_post("/v1/messages", self._post_messages)
        return app

    async def _post_chat(self, request: web.Request) -> web.Response:
        return await self._handle(request, self._chat)

    async def _post_embeddings(self, request: web.Request) -> web.Response:
        return await self._handle(request, self._embeddings)

    async def _post_messages(self, request: web.Request) -> web.Response:
        """As the real API: version 2026-10-21 answers 400 to any sampling setting (2023-06-01 takes them)."""
        version = request.headers.get("anthropic-version")

        def answer(body: dict[str, Any]) -> dict[str, Any]:
            rejected = [name for name in SAMPLING_FIELDS if name in body]
            if version != ANTHROPIC_SAMPLING_VERSION and rejected:
                raise web.HTTPBadRequest(text=json.dumps({"type": "error", "error": {
                    "type": "invalid_request_error", "message": f"{rejected[0]}: Extra inputs are not permitted"}}),
                    content_type="application/json")
            return self._messages(body)

        return await self._handle(request, answer)

    async def start(self, port: int = 0) -> FakeLLMServer:
        self._stop = asyncio.Event()
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeLLMServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def in_thread(self) -> Iterator[FakeLLMServer]:
        """Serve from a daemon thread with its own event loop, for sync tests."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(target=self._serve_forever, args=(loop, ready), daemon=True)
        thread.start()
        ready.wait(10)
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()

    def _serve_forever(self, loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self.start())
        ready.set()
        loop.run_forever()


def main(argv: list[str] | None = None) -> None:
    """Print the base URL, then one JSON line of counts per stdin line; exit when stdin closes."""
    parser = argparse.ArgumentParser(description="Scriptable local OpenAI/Anthropic-shaped LLM server.")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--latency-sigma", type=float, default=None)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = FakeLLMServer(latency_ms=args.latency_ms, latency_sigma=args.latency_sigma)

    def counts() -> str:
        return json.dumps({"requests": server.requests, "max_in_flight": server.max_in_flight})

    async def serve() -> None:
        await server.start(args.port)
        print(server.base_url, flush=True)
        loop = asyncio.get_running_loop()
        closed = loop.create_future()

        def on_input() -> None:
            if sys.stdin.readline():
                print(counts(), flush=True)
            elif not closed.done():
                closed.set_result(None)

        loop.add_reader(sys.stdin.fileno(), on_input)
        await closed
        await server.stop()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
