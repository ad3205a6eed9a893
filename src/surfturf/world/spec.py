"""The world spec: chunks, frames, styles, fact tables and the planted ground truth, loaded from YAML."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from surfturf.errors import UserError
from surfturf.world.validate import validate_spec

REQUIRED = ("name", "tables", "frames", "styles", "chunks", "planted")


@dataclass
class World:
    """A loaded world spec; the single source of ground truth."""

    spec: dict[str, Any]
    path: str

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    @property
    def seed(self) -> int:
        """The spec's `seed:`, used wherever the caller gives none."""
        return int(self.spec.get("seed", 0))

    def in_base_language(self, variant: str) -> bool:
        """Whether a frame variant is written in the world's own language (no `language:` under `variants`),
        so the pool's context sentences may be appended to it."""
        return "language" not in (self.spec.get("variants") or {}).get(variant, {})

    def lowercase(self, variant: str) -> bool:
        """Whether a variant is written in lower case (`case: lower` under `variants`)."""
        return (self.spec.get("variants") or {}).get(variant, {}).get("case") == "lower"

    @property
    def planted(self) -> list[dict[str, Any]]:
        return list(self.spec["planted"])

    def planted_by_name(self, name: str) -> dict[str, Any]:
        for entry in self.planted:
            if entry["name"] == name:
                return entry
        known = ", ".join(p["name"] for p in self.planted)
        raise UserError(f"world {self.name} has no planted behaviour {name!r}", f"use one of: {known}")

    def pool(self) -> list[str]:
        """The world's attribute pool texts (what SURF samples from)."""
        from surfturf.world.generator import pool_attributes

        return pool_attributes(self)

    def pool_path(self, directory: str | Path) -> Path:
        """Writes the attribute pool as a .txt file (one attribute per line) and returns its path."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "world_pool.txt"
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(self.pool()) + "\n", encoding="utf-8")
        tmp.replace(path)
        return path


def shipped_worlds() -> dict[str, str]:
    """The worlds shipped with surfturf: name -> spec text (default.yaml and specs/*.yaml)."""
    root = resources.files("surfturf.world")
    files = [root.joinpath("default.yaml")]
    specs = root.joinpath("specs")
    if specs.is_dir():
        files += sorted((f for f in specs.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    return {f.name.removesuffix(".yaml"): f.read_text(encoding="utf-8") for f in files}


def load_world(path: str | Path | None = None) -> World:
    """The default world (None), a shipped world by name, or the spec at `path`, validated at load."""
    shipped = shipped_worlds()
    if path is None or (str(path) in shipped and not Path(path).is_file()):
        name = "default" if path is None else str(path)
        text, where = shipped[name], f"builtin:{name}"
    else:
        file = Path(path)
        if not file.is_file():
            raise UserError(f"world spec {file} does not exist",
                            f"give a YAML world spec path or a shipped world ({', '.join(shipped)})")
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UserError(f"world spec {file} is not UTF-8 text", "give a YAML world spec file") from None
        where = str(file)
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UserError(f"world spec {where} is not valid YAML: {error}", "fix the YAML syntax") from error
    if not isinstance(spec, dict):
        raise UserError(f"world spec {where} is not a mapping", "start from surfturf/world/default.yaml")
    missing = [key for key in REQUIRED if key not in spec]
    if missing:
        raise UserError(f"world spec {where} lacks {', '.join(missing)}", "start from surfturf/world/default.yaml")
    validate_spec(spec, where)
    return World(spec=spec, path=where)
