"""The judge's prompt fits its server: cut with a note when the context is known, a clear error when not."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from surfturf.models import ModelSession
from surfturf.rubrics import load_rubric
from surfturf.surf import RoleSpec, judge_one
from surfturf.testing.server import FakeLLMServer

CONTEXT = 2048


class SmallContext(FakeLLMServer):
    """A llama.cpp-like server with a 2,048-token context: a longer prompt gets its HTTP 400."""

    def __init__(self) -> None:
        super().__init__(lambda messages, model: "<reason>long prose, no code</reason><score>10</score>")
        self.prompts: list[str] = []

    async def _post_chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        prompt = "".join(m["content"] for m in body["messages"])
        self.prompts.append(prompt)
        if len(prompt) / 4 + body.get("max_tokens", 0) > CONTEXT:
            return web.json_response({"error": {"code": 400, "type": "exceed_context_size_error", "n_ctx": CONTEXT,
                                                "message": "the request exceeds the available context size"}},
                                     status=400)
        return await super()._post_chat(request)


@dataclass
class Limits:
    slots: int | None
    context_tokens: int | None


LONG_RESPONSE = "The answer goes on and on about tea. " * 600


async def test_judge_fails_with_the_limit_named_when_the_context_is_unknown() -> None:
    async with SmallContext() as server, ModelSession(cache_dir=None) as session:
        judge = RoleSpec(spec="openai-compatible/judge", base_url=server.base_url).model(session, "judge")
        outcome = await judge_one([judge], load_rubric("code"), "Why is tea hot?", LONG_RESPONSE)
    assert outcome.score is None
    assert "exceeds the server's" in outcome.error and "--judge-max-tokens" in outcome.error
    assert "available context size" in outcome.error


async def test_judge_response_is_cut_with_a_note_when_the_server_reports_its_context() -> None:
    async with SmallContext() as server, ModelSession(cache_dir=None) as session:
        spec = RoleSpec(spec="openai-compatible/judge", base_url=server.base_url, max_tokens=256)
        judge = spec.model(session, "judge")

        async def server_limits() -> Limits:  # what a llama.cpp provider reports (models' Model.server_limits)
            return Limits(slots=1, context_tokens=CONTEXT)

        judge.server_limits = server_limits  # type: ignore[attr-defined]
        outcome = await judge_one([judge], load_rubric("code"), "Why is tea hot?", LONG_RESPONSE)
    assert outcome.error is None and outcome.score == 10
    assert "response truncated by surfturf to fit the judge's 2048-token context" in server.prompts[-1]
