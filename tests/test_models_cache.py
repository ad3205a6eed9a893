"""The SQLite cache: reruns are free, samples are distinct, read-only never writes, results survive SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from surfturf.models import GenerateConfig, ModelSession
from surfturf.models.cache import FILE_NAME, Cache
from surfturf.testing.server import FakeLLMServer

PROMPTS = [f"prompt number {i}" for i in range(6)]


async def run_prompts(cache_dir: Path, url: str, mode: str = "read-write", samples: int = 1) -> ModelSession:
    session = ModelSession(cache_dir=cache_dir, cache_mode=mode, max_concurrency=4)
    model = session.model("target", "openai-compatible/t", base_url=url, config=GenerateConfig(temperature=1.0))
    results = await asyncio.gather(
        *(model.generate(p, sample_index=s) for p in PROMPTS for s in range(samples))
    )
    assert all(r.ok for r in results)
    await session.aclose()
    return session


async def test_second_identical_run_makes_zero_calls(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    first = await run_prompts(tmp_path, fake_llm.base_url)
    assert fake_llm.requests == len(PROMPTS)
    assert first.usage.summary()["total"]["calls"] == len(PROMPTS)
    second = await run_prompts(tmp_path, fake_llm.base_url)
    assert fake_llm.requests == len(PROMPTS)
    total = second.usage.summary()["total"]
    assert total["calls"] == 0 and total["cache_hits"] == len(PROMPTS) and total["cost_usd"] == 0


async def test_sample_index_makes_distinct_entries(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    await run_prompts(tmp_path, fake_llm.base_url, samples=3)
    assert fake_llm.requests == 3 * len(PROMPTS)
    assert Cache(tmp_path).count() == 3 * len(PROMPTS)


async def test_settings_and_host_are_part_of_the_key(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    session = ModelSession(cache_dir=tmp_path)
    model = session.model("target", "openai-compatible/t", base_url=fake_llm.base_url)
    await model.generate("same", config=GenerateConfig(temperature=0.0))
    await model.generate("same", config=GenerateConfig(temperature=0.7))
    localhost = fake_llm.base_url.replace("127.0.0.1", "localhost")
    other_host = session.model("target", "openai-compatible/t", base_url=localhost)
    await other_host.generate("same", config=GenerateConfig(temperature=0.0))
    assert fake_llm.requests == 3
    await session.aclose()


async def test_read_only_cache_reads_but_never_writes(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    await run_prompts(tmp_path, fake_llm.base_url)
    db = tmp_path / FILE_NAME
    before = (db.stat().st_size, Cache(tmp_path).count())
    session = ModelSession(cache_dir=tmp_path, cache_mode="read-only")
    model = session.model("target", "openai-compatible/t", base_url=fake_llm.base_url,
                          config=GenerateConfig(temperature=1.0))
    hit = await model.generate(PROMPTS[0])
    miss = await model.generate("a prompt never seen")
    assert hit.cached and miss.ok and not miss.cached
    await session.aclose()
    assert (db.stat().st_size, Cache(tmp_path).count()) == before
    fresh = tmp_path / "never-created"
    ro = ModelSession(cache_dir=fresh, cache_mode="read-only")
    assert (await ro.model("target", "openai-compatible/t", base_url=fake_llm.base_url).generate("x")).ok
    await ro.aclose()
    assert not fresh.exists()


async def test_cache_off_always_calls(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    await run_prompts(tmp_path, fake_llm.base_url, mode="off")
    await run_prompts(tmp_path, fake_llm.base_url, mode="off")
    assert fake_llm.requests == 2 * len(PROMPTS) and not (tmp_path / FILE_NAME).exists()


def test_returned_result_survives_sigkill(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import asyncio, sys, time
        from surfturf.models import ModelSession
        async def main():
            session = ModelSession(cache_dir={str(tmp_path)!r})
            model = session.model("target", "openai-compatible/t", base_url={fake_llm.base_url!r})
            result = await model.generate("kill me after this")
            print(result.text, flush=True)
            time.sleep(60)
        asyncio.run(main())
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
    assert line.strip() == "echo[t]: kill me after this"
    requests = fake_llm.requests

    async def rerun() -> str:
        session = ModelSession(cache_dir=tmp_path)
        result = await session.model("target", "openai-compatible/t", base_url=fake_llm.base_url).generate(
            "kill me after this")
        await session.aclose()
        assert result.cached
        return result.text

    assert asyncio.run(rerun()) == line.strip() and fake_llm.requests == requests


def test_several_processes_write_one_cache(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from surfturf.models.cache import Cache
        cache = Cache(Path({str(tmp_path)!r}))
        for i in range(200):
            cache.put_many([(f"{{sys.argv[1]}}-{{i}}", {{"text": str(i)}}, None)])
    """)
    children = [subprocess.Popen([sys.executable, "-c", script, tag]) for tag in ("a", "b", "c")]
    assert [child.wait(60) for child in children] == [0, 0, 0]
    cache = Cache(tmp_path, "read-only")
    assert cache.count() == 600 and cache.get("b-199") is not None


async def test_url_path_and_revision_are_part_of_the_key(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    """Two endpoints on one host (different paths) and one name re-served as a new checkpoint never share."""
    session = ModelSession(cache_dir=tmp_path)
    v1 = session.model("target", "vllm/my-sft", base_url=fake_llm.base_url)
    same_host_other_path = session.model("target", "vllm/my-sft", base_url=fake_llm.root_url + "/v1/")
    keys = {
        v1._key("chat", "x", {}, 0),
        session.model("target", "vllm/my-sft", base_url=fake_llm.root_url + "/other/v1")._key("chat", "x", {}, 0),
        session.model("target", "vllm/my-sft", base_url=fake_llm.base_url, revision="step-200")._key("chat", "x", {}, 0),
        session.model("target", "vllm/my-sft", base_url=fake_llm.base_url, revision="step-400")._key("chat", "x", {}, 0),
    }
    assert len(keys) == 4
    assert same_host_other_path._key("chat", "x", {}, 0) == v1._key("chat", "x", {}, 0)  # a trailing slash is one URL
    old = await session.model("target", "vllm/my-sft", base_url=fake_llm.base_url, revision="a").generate("same")
    new = await session.model("target", "vllm/my-sft", base_url=fake_llm.base_url, revision="b").generate("same")
    assert not old.cached and not new.cached and fake_llm.requests == 2
    await session.aclose()


def test_every_generate_setting_changes_the_key() -> None:
    from dataclasses import fields

    model = ModelSession().model("target", "vllm/t", base_url="http://127.0.0.1:1/v1")
    values = {"temperature": 0.5, "max_tokens": 64, "top_p": 0.9, "stop": ("</a>",), "seed": 7, "thinking_budget": 1024}
    assert set(values) == {f.name for f in fields(GenerateConfig)}  # a new field needs a value here
    keys = {model._key("chat", "x", GenerateConfig().key(), 0)}
    for name, value in values.items():
        keys.add(model._key("chat", "x", GenerateConfig(**{name: value}).key(), 0))
    assert len(keys) == 1 + len(values)


def test_credentials_are_not_part_of_the_key() -> None:
    session = ModelSession()
    plain = session.model("target", "vllm/t", base_url="http://127.0.0.1:1/v1")
    login = session.model("target", "vllm/t", base_url="http://u:longpassword@127.0.0.1:1/v1")
    assert plain._key("chat", "x", {}, 0) == login._key("chat", "x", {}, 0)
