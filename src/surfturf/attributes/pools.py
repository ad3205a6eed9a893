"""Attribute pools: the descriptors SURF samples from, loaded from an index, a file or built in.

Sources (`AttributePool.load(spec)`):
- `builtin`: the descriptors shipped in `builtin_pool.txt` (for models whose data you lack);
- an INDEX directory: its `pool.jsonl` rows `{"attribute", "weight", "cluster"}`;
- the official SURF pseudo-SAE JSONL: rows with an `sae_attributes` list (plus `prompt`,
  `response`, `attributes`, `normalized_weights`); the pool is the distinct cluster summaries,
  each weighted by how many rows carry it;
- a `.jsonl` list: one JSON string or `{"attribute": ..., "weight": ...}` per line;
- a `.txt` file: one attribute per line (blank lines and `#` comments skipped).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from surfturf.errors import UserError

BUILTIN = "builtin"


@dataclass(frozen=True)
class AttributePool:
    """Distinct attribute descriptors with a prior weight each (cluster size, row count or 1)."""

    attributes: tuple[str, ...]
    weights: tuple[float, ...]
    source: str
    kind: str

    def __len__(self) -> int:
        return len(self.attributes)

    @property
    def sha256(self) -> str:
        """A digest of the attribute texts, recorded in manifests to detect a changed pool."""
        return hashlib.sha256("\n".join(self.attributes).encode("utf-8")).hexdigest()

    def describe(self) -> dict[str, object]:
        """The manifest's `pool` entry."""
        return {"source": self.source, "kind": self.kind, "size": len(self), "sha256": self.sha256}

    @classmethod
    def from_items(cls, items: list[tuple[str, float]], source: str, kind: str) -> AttributePool:
        """A pool from (attribute, weight) pairs: whitespace-trimmed, duplicates merged (weights add)."""
        merged: dict[str, float] = {}
        for text, weight in items:
            text = " ".join(str(text).split())
            if text:
                merged[text] = merged.get(text, 0.0) + float(weight)
        if not merged:
            raise UserError(f"attribute pool {source} is empty", "give a pool with at least one attribute")
        return cls(tuple(merged), tuple(merged.values()), source, kind)

    @classmethod
    def load(cls, spec: str | Path) -> AttributePool:
        """Load a pool from `builtin`, an INDEX directory, a `.jsonl` or a `.txt` file."""
        if str(spec) == BUILTIN:
            text = resources.files("surfturf.attributes").joinpath("builtin_pool.txt").read_text(encoding="utf-8")
            return cls.from_items(_text_items(text), BUILTIN, "builtin")
        path = Path(spec).expanduser()
        if path.is_dir():
            pool_file = path / "pool.jsonl"
            if not pool_file.is_file():
                raise UserError(f"{path} has no pool.jsonl", "build the index first (surfturf index build) or give a pool file")
            return cls.from_items(_jsonl_items(pool_file), str(path), "index")
        if not path.is_file():
            raise UserError(f"attribute pool {path} does not exist", "give 'builtin', an INDEX directory, a .txt or a .jsonl file")
        if path.suffix == ".jsonl":
            items = _jsonl_items(path)
            kind = "sae" if _is_sae(path) else "jsonl"
            return cls.from_items(items, str(path), kind)
        if path.suffix in {".txt", ".text", ""}:
            return cls.from_items(_text_items(_read(path)), str(path), "txt")
        raise UserError(f"attribute pool {path} has an unknown type '{path.suffix}'", "use a .txt (one per line) or .jsonl file")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read attribute pool {path}: {error}", "check the file") from error


def _text_items(text: str) -> list[tuple[str, float]]:
    return [(line.strip(), 1.0) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _is_sae(path: Path) -> bool:
    for line in _read(path).split("\n"):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                return False
            return isinstance(row, dict) and "sae_attributes" in row
    return False


def _jsonl_items(path: Path) -> list[tuple[str, float]]:
    """(attribute, weight) pairs from pool.jsonl rows, plain strings, or pseudo-SAE rows."""
    items: list[tuple[str, float]] = []
    sae_counts: Counter[str] = Counter()
    for number, line in enumerate(_read(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise UserError(f"attribute pool {path} line {number} is not JSON: {error.msg}", "fix or remove that line") from error
        if isinstance(row, str):
            items.append((row, 1.0))
        elif isinstance(row, dict) and "sae_attributes" in row:
            values = row["sae_attributes"]
            if not isinstance(values, list):
                raise UserError(f"attribute pool {path} line {number}: 'sae_attributes' is not a list", "fix that line")
            sae_counts.update(" ".join(str(v).split()) for v in dict.fromkeys(values) if str(v).strip())
        elif isinstance(row, dict) and isinstance(row.get("attribute"), str):
            weight = row.get("weight", 1.0)
            if not isinstance(weight, (int, float)) or weight < 0:
                raise UserError(f"attribute pool {path} line {number}: 'weight' must be a number >= 0", "fix that line")
            items.append((row["attribute"], float(weight)))
        else:
            raise UserError(
                f"attribute pool {path} line {number} has no 'attribute' string or 'sae_attributes' list",
                "use one JSON string or {\"attribute\": ...} per line",
            )
    items.extend((text, float(count)) for text, count in sae_counts.items())
    return items
