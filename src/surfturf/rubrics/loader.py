"""Load rubrics by built-in name or YAML path; every validation error names the field."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from surfturf.errors import UserError
from surfturf.rubrics.schema import Rubric

BUILTIN_PACKAGE = "surfturf.rubrics.builtin"


def _builtin_files() -> dict[str, Path]:
    folder = resources.files(BUILTIN_PACKAGE)
    return {Path(str(entry)).stem: Path(str(entry)) for entry in folder.iterdir() if str(entry).endswith(".yaml")}


def builtin_names() -> list[str]:
    """Names of the rubrics shipped with the package, sorted."""
    return sorted(_builtin_files())


def parse_rubric(text: str, source: str) -> Rubric:
    """Validate YAML text as a rubric; `source` names the file in error messages."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"rubric {source} is not valid YAML{where}", "fix the YAML syntax") from error
    if not isinstance(data, dict):
        raise UserError(f"rubric {source} must be a YAML mapping of fields", "see docs/CONTRACTS.md 'Rubric YAML'")
    try:
        return Rubric.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = first["msg"]
        if first["type"] == "missing":
            message = "is missing"
        elif first["type"] == "extra_forbidden":
            message = "is not a rubric field"
        more = f" (and {error.error_count() - 1} more problems)" if error.error_count() > 1 else ""
        raise UserError(
            f"rubric {source}: field '{field}' {message}{more}",
            "see docs/CONTRACTS.md 'Rubric YAML' for the fields",
        ) from error


def load_rubric(name_or_path: str | Path) -> Rubric:
    """A built-in rubric by name (`code`), or a user rubric from a YAML file."""
    builtin = _builtin_files()
    key = str(name_or_path)
    if key in builtin:
        return parse_rubric(builtin[key].read_text(encoding="utf-8"), key)
    path = Path(key).expanduser()
    if path.suffix in {".yaml", ".yml"} or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise UserError(f"cannot read rubric file {path}: {error.strerror}", "check the path") from error
        except UnicodeDecodeError:
            raise UserError(f"rubric file {path} is not UTF-8 text", "pass a YAML rubric file") from None
        return parse_rubric(text, str(path))
    raise UserError(
        f"unknown rubric '{key}'",
        f"use a built-in name ({', '.join(builtin_names())}) or a path to a .yaml file",
    )


def rubric_text(name_or_path: str | Path) -> str:
    """The YAML source of a rubric, as recorded in run manifests."""
    builtin = _builtin_files()
    key = str(name_or_path)
    if key in builtin:
        return builtin[key].read_text(encoding="utf-8")
    return Path(key).expanduser().read_text(encoding="utf-8")
