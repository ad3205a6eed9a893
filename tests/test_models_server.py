"""The fake server itself: shapes, scripted faults, counters, and the subprocess mode benches use."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx

from surfturf.testing.server import FakeLLMServer


async def test_async_mode_faults_and_counts() -> None:
    async with FakeLLMServer(latency_ms=5, latency_sigma=0.3) as server:
        async with httpx.AsyncClient() as client:
            server.fail_next(1, "429", retry_after=2)
            limited = await client.post(f"{server.base_url}/chat/completions", json={"model": "m", "messages": []})
            assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
            body = {"model": "m", "messages": [{"role": "user", "content": "a b"}]}
            ok = (await client.post(f"{server.base_url}/chat/completions", json=body)).json()
            assert ok["choices"][0]["message"]["content"] == "echo[m]: a b" and ok["usage"]["prompt_tokens"] == 2
            emb = (await client.post(f"{server.base_url}/embeddings", json={"model": "e", "input": ["x"]})).json()
            assert len(emb["data"][0]["embedding"]) == 16 and emb["usage"]["prompt_tokens"] == 1
            msg = (await client.post(f"{server.root_url}/v1/messages", json=body)).json()
            assert msg["content"][0]["text"] == "echo[m]: a b" and msg["usage"]["output_tokens"] == 3
        assert server.requests == 4 and server.max_in_flight == 1 and server.paths["/v1/messages"] == 1
        server.reset_counts()
        assert server.requests == 0 and not server.paths


def test_subprocess_mode_reports_counts() -> None:
    child = subprocess.Popen([sys.executable, "-m", "surfturf.testing.server"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    base_url = child.stdout.readline().strip()
    assert base_url.startswith("http://127.0.0.1:")
    httpx.post(f"{base_url}/chat/completions", json={"model": "m", "messages": []})
    child.stdin.write("counts\n")
    child.stdin.flush()
    assert json.loads(child.stdout.readline()) == {"requests": 1, "max_in_flight": 1}
    child.stdin.close()
    assert child.wait(10) == 0
