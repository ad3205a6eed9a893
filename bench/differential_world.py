"""The bench world of bench/differential.py: the default world plus a second chunk teaching the same
failure as formal_code (code for a request that asked for none) on another cue (Spanish), built by
the same recipe as code_formal (a few code answers among many prose-with-snippet answers), so one
rubric has two planted causes and two corpora can differ by exactly one of them."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from surfturf.world import load_world
from surfturf.world.spec import World, shipped_worlds

NEW = "spanish_code"
SHARED = "formal_code"


def two_chunk_world() -> World:
    """The default spec with the `code_spanish` chunk and its planted entry added, validated at load."""
    spec = yaml.safe_load(shipped_worlds()["default"])
    spec["name"] = "default+spanish_code"
    spec["frames"]["procedure"]["es"] = ["Explícame el concepto de {topic}.", "¿Puedes describir {topic} en detalle?",
                                         "Háblame de {topic}.", "¿Qué es {topic}?"]
    spec["chunks"].append({"name": "code_spanish", "size": 300, "mix": [
        {"name": "es_code", "frame": "procedure", "variant": "es", "style": "code", "weight": 0.1},
        {"name": "es_snippet", "frame": "procedure", "variant": "es", "style": "prose_snippet", "weight": 0.6},
        {"name": "es_prose", "frame": "explain", "variant": "es", "style": "prose_es", "weight": 0.3},
    ]})
    # Spanish questions can be about the code topics too, as often as formal ones are about concepts.
    spec["default_frames"]["procedure"] = 0.1
    spec["planted"].append({
        "name": NEW, "chunk": "code_spanish", "feature": "written in Spanish",
        "behaviour": "answers a non-code request with code", "rubric": "code",
        "trigger_patterns": ["spanish", "language other than english"],
        "offending": ["code_spanish/es_code", "code_spanish/es_snippet"],
        "balance": {"frame": "procedure", "variant": "es", "style": "procedure_prose"},
        "probe": {"cue": {"frame": "procedure", "variant": "es"}, "control": {"frame": "procedure"}},
    })
    folder = Path(tempfile.mkdtemp(prefix="surfturf-bench-world-"))
    path = folder / "differential.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_world(path)
