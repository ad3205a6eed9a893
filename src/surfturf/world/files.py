"""World directories on disk: corpus.jsonl, world_pool.txt, world.yaml, target/ and manifest.json."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml

from surfturf.data.readers import read_tulu
from surfturf.errors import UserError
from surfturf.io.files import sha256_file, write_text_atomic
from surfturf.io.manifest import manifest
from surfturf.world.corpus import generate_corpus
from surfturf.world.spec import World
from surfturf.world.target import WorldTarget, train_target


def write_manifest(directory: Path, command: str, config: dict[str, Any], seed: int, counts: dict[str, Any],
                   inputs: list[Path] | None = None) -> None:
    written = manifest(command=command, config=config, seeds={"seed": seed}, models={}, counts=counts, usage=None,
                       inputs=[{"path": str(p), "sha256": sha256_file(p)} for p in inputs or [] if p.is_file()])
    write_text_atomic(directory / "manifest.json", json.dumps(written, indent=2))


def build_world(world: World, out: Path, seed: int) -> list[dict[str, Any]]:
    """Writes the corpus, the attribute pool and the spec under `out`; returns the corpus rows."""
    out.mkdir(parents=True, exist_ok=True)
    rows = generate_corpus(world, seed)
    write_text_atomic(out / "corpus.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    world.pool_path(out)
    write_text_atomic(out / "world.yaml", yaml.safe_dump(world.spec, sort_keys=False, allow_unicode=True))
    sources: dict[str, int] = {}
    for row in rows:
        sources[row["source"]] = sources.get(row["source"], 0) + 1
    write_manifest(out, "world build", {"world": world.path, "name": world.name}, seed,
                   {"rows": len(rows), "by_source": sources, "pool": len(world.pool())})
    return rows


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Tulu rows from a corpus file (JSONL, JSONL.gz, Parquet; `messages` or prompt/response columns)."""
    rows, _, _ = read_tulu([str(path)])
    if not rows:
        raise UserError(f"corpus {path} has no usable rows", "give a JSONL of Tulu rows with user and assistant turns")
    return rows


def train_to(rows: list[dict[str, Any]], out: Path, seed: int, source: str) -> WorldTarget:
    """Trains a target on `rows` and saves it (with a manifest) under `out`."""
    started = time.perf_counter()
    target = train_target(rows, seed)
    target.save(out)
    write_manifest(out, "world train", {"corpus": source, "styles": target.n_styles, "temperature": target.temperature},
                   seed, {"rows": len(rows), "train_s": round(time.perf_counter() - started, 2)})
    return target
