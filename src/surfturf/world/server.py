"""The world's OpenAI-compatible HTTP server (aiohttp) on 127.0.0.1: `/v1/chat/completions`, `/v1/models`.

The model name picks the role (`target`, `generator`, `judge`, ...). A request's `seed` makes the
stochastic roles (target, generator, perturber) reproducible; without one they sample afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from surfturf.errors import UserError
from surfturf.world.roles import ROLE_NAMES, WorldRoles

HOST = "127.0.0.1"


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error"}}, status=status)


class WorldServer:
    """Serves the world's roles; use `in_thread()` from sync code or `start()`/`stop()` in a loop."""

    def __init__(self, roles: WorldRoles) -> None:
        self.roles = roles
        self.port = 0
        self.calls: dict[str, int] = {}
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        return app

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "surfturf-world"} for name in ROLE_NAMES]})

    async def _chat(self, request: web.Request) -> web.Response:
        try:
            body: dict[str, Any] = await request.json()
        except ValueError:
            return _error(400, "request body is not JSON")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _error(400, "messages must be a non-empty list")
        model = str(body.get("model", "target"))
        seed = body.get("seed")
        plain = [{"role": str(m.get("role", "")), "content": _text(m.get("content", ""))} for m in messages if isinstance(m, dict)]
        try:
            text = self.roles.answer(model, plain, int(seed) if isinstance(seed, int) else None)
        except UserError as error:
            return _error(400, error.line())
        role = model.split("/")[-1]
        self.calls[role] = self.calls.get(role, 0) + 1
        prompt_tokens = sum(_tokens(m["content"]) for m in plain)
        completion_tokens = _tokens(text)
        return web.json_response({
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        })

    async def start(self, port: int = 0) -> WorldServer:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @contextlib.contextmanager
    def in_thread(self, port: int = 0) -> Iterator[WorldServer]:
        """Runs the server on its own event loop in a daemon thread for the `with` block."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start(port))
            except BaseException as error:  # reported to the caller below
                failure.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()

        thread = threading.Thread(target=serve, name="surfturf-world-server", daemon=True)
        thread.start()
        ready.wait(30)
        if failure:
            raise failure[0]
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)


def _text(content: Any) -> str:
    """OpenAI content may be a string or a list of parts."""
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)


def serve_forever(roles: WorldRoles, port: int) -> None:
    """Blocks serving on 127.0.0.1:port until interrupted (the `world serve` command)."""
    web.run_app(WorldServer(roles).app(), host=HOST, port=port, print=None, access_log=None)
