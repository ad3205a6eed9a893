"""The price table: built-in list prices (prices.yaml) overridden by a user's YAML or JSON file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from surfturf.errors import UserError
from surfturf.models.specs import PROVIDERS, Spec


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens; `known` is False when a paid model is missing from the table (cost counts as 0)."""

    input: float
    output: float
    known: bool = True

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000


FREE = Price(0.0, 0.0)
UNKNOWN = Price(0.0, 0.0, known=False)


def _validate(raw: Any, origin: str) -> dict[str, Price]:
    if not isinstance(raw, dict):
        raise UserError(f"price table {origin} is not a mapping of model -> {{input, output}}",
                        "write lines like `openai/gpt-4.1: {input: 2.0, output: 8.0}` (USD per 1M tokens)")
    table: dict[str, Price] = {}
    for model, entry in raw.items():
        if not isinstance(entry, dict):
            raise UserError(f"price table {origin}: entry {model!r} is not a mapping", "give {input: USD, output: USD}")
        values = {}
        for field in ("input", "output"):
            value = entry.get(field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise UserError(
                    f"price table {origin}: field {model}.{field} is {value!r}, not a non-negative number",
                    "give USD per 1M tokens, e.g. 2.5",
                )
            values[field] = float(value)
        unknown = set(entry) - {"input", "output"}
        if unknown:
            raise UserError(f"price table {origin}: unknown field {model}.{sorted(unknown)[0]}",
                            "use only input and output")
        table[str(model)] = Price(values["input"], values["output"])
    return table


def load_prices(path: Path | str | None = None) -> dict[str, Price]:
    """Built-in prices, then the user's file on top; a malformed file is a UserError naming the field."""
    builtin = resources.files("surfturf.models").joinpath("prices.yaml").read_text()
    table = _validate(yaml.safe_load(builtin), "built-in prices.yaml")
    if path is None:
        return table
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise UserError(f"cannot read price table {path}: {error.strerror}",
                        "pass an existing YAML or JSON file") from None
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise UserError(f"price table {path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: "
                        f"{str(error).splitlines()[0]}", "fix the syntax") from None
    table.update(_validate(raw, str(path)))
    return table


def price_for(table: dict[str, Price], spec: Spec) -> Price:
    """Exact spec, then the longest dated-version prefix, then the bare model (routers like openrouter/openai/...)."""
    if PROVIDERS[spec.provider].free:
        return FREE
    for name in (str(spec), spec.model):
        if name in table:
            return table[name]
        prefixes = [key for key in table if name.startswith(key + "-")]
        if prefixes:
            return table[max(prefixes, key=len)]
    return UNKNOWN
