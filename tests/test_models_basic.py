"""Smoke tests of the model layer against the local fake server."""

from __future__ import annotations

import numpy as np

from surfturf.models import ModelSession
from surfturf.testing.server import FakeLLMServer


async def test_generate_and_embed_roundtrip(fake_llm: FakeLLMServer, fake_session: ModelSession) -> None:
    model = fake_session.model("judge", "openai-compatible/judge", base_url=fake_llm.base_url)
    result = await model.generate([{"role": "user", "content": "score this"}])
    assert result.ok and result.text == "echo[judge]: score this"
    assert result.input_tokens == 2 and result.output_tokens == 3
    emb = await fake_session.model("embedder", "openai-compatible/e", base_url=fake_llm.base_url).embed(["a", "b"])
    assert emb.ok and emb.vectors.shape == (2, 16) and emb.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb.vectors, axis=1), 1.0, rtol=1e-5)
    await fake_session.aclose()


async def test_hash_embedder_is_deterministic_and_normalised() -> None:
    session = ModelSession()
    model = session.model("embedder", "hash/384")
    first = (await model.embed(["the cat sat", "the cat sits", "quantum chromodynamics", ""])).vectors
    again = (await session.model("embedder", "hash/384").embed(["the cat sat"])).vectors
    assert first.shape == (4, 384) and first.dtype == np.float32
    np.testing.assert_array_equal(first[0], again[0])
    assert first[0] @ first[1] > first[0] @ first[2]
    assert not first[3].any()
    await session.aclose()
