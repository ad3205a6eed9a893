"""A scripted pair of checkpoints for differential SURF tests: a target (B) and a baseline (A) that
share one failure (code for slang queries), B alone writes code for formal queries and A alone for
archaic ones; served as `openai-compatible/<role>` by a FakeLLMServer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from surfturf.surf import RoleSpec, SurfConfig
from surfturf.testing.server import FakeLLMServer
from surfturf.testing.surf import scripted_config

NEW = "The query uses formal vocabulary."
SHARED = "The query uses casual slang."
FIXED = "The query uses archaic wording."
_WORDS = ("amber basalt cedar dune ember fjord glacier harbor iris jasper kelp lagoon meadow nectar orchid "
          "prairie quartz reef savanna tundra umber valley willow xenon yarrow yew acorn birch coral delta").split()
POOL = [NEW, SHARED, FIXED] + [f"The query is about {' '.join(_WORDS[3 * i:3 * i + 3])}." for i in range(9)]
CODE = "```python\nprint('hello')\n```"
PROSE = "Rain falls when clouds grow heavy."


def two_checkpoints(messages: list[dict[str, Any]], model: str) -> str:
    """generator: the attributes' words reversed; target and baseline: code on their cues, else prose;
    judge: code scores 90, prose 5 (the lowest band: no code at all); perturber: the query with a numbered suffix."""
    text = messages[-1]["content"]
    if model == "generator":
        block = text.split("<attributes>")[1].split("</attributes>")[0]
        attributes = re.findall(r"^- The query (.*)$", block, re.M)
        return "<query>" + ", ".join(" ".join(a.split()[::-1]) for a in attributes) + "?</query>"
    if model == "perturber":
        query = re.search(r"<query>\n?(.*?)\n?</query>", text, re.S)
        variant = re.search(r"variant (\d+) of", text)
        return f"<query>{query.group(1) if query else text} (v{variant.group(1) if variant else 0})</query>"
    if model == "target":
        return CODE if "formal" in text or "slang" in text else PROSE
    if model == "baseline":
        return CODE if "archaic" in text or "slang" in text else PROSE
    code = "```" in text.split("<response>")[1]
    return f"<reason>{'Code for a plain question.' if code else 'Plain prose.'}</reason>\n<score>{90 if code else 5}</score>"


def write_pool(path: Path) -> Path:
    path.write_text("\n".join(POOL) + "\n", encoding="utf-8")
    return path


def differential_config(server: FakeLLMServer, pool: Path, **overrides: Any) -> SurfConfig:
    """A small differential sweep over `pool` with both checkpoints on `server` (the baseline at temperature 0.7)."""
    baseline = RoleSpec(spec="openai-compatible/baseline", base_url=server.base_url, temperature=0.7)
    settings: dict[str, Any] = dict(runs=2, iterations=4, candidates=10, seed=3, max_k=2, baseline=baseline)
    return scripted_config(server, pool, **(settings | overrides))
