"""Checks a world spec at load, so a broken spec fails with one line naming the entry and the fix
instead of a KeyError, a ZeroDivisionError or an HTTP 500 in the middle of SURF."""

from __future__ import annotations

import random
import re
from typing import Any

from surfturf.errors import UserError

SLOT = re.compile(r"\{([A-Za-z_]+)\}")
BASE_VARIANT = "plain"  # the variant the generator, the corpus and the probes fall back to
RUBRIC_KEYS = {"applies", "warranted", "forms", "claim"}
FORM_KINDS = ("styles", "pattern", "max_words")
FORM_NAMES = ("full", "partial")
CONDITION_KEYS = ("frame", "variant", "table")  # what a realisation condition (applies, warranted) may name


def _fail(where: str, problem: str, fix: str) -> None:
    raise UserError(f"{where}: {problem}", fix)


def _number_slots() -> set[str]:
    from surfturf.world.corpus import number_record

    return set(number_record(random.Random(0)))


def _slots(template: Any) -> set[str]:
    """Slot names a template fills, capitalised {Slot} read as {slot}."""
    text = template["q"] if isinstance(template, dict) else template
    return {name[0].lower() + name[1:] for name in SLOT.findall(str(text))}


def _extras(templates: list[Any]) -> set[str]:
    """Slots a frame's dict templates add for the response (every key but `q`)."""
    return {key for t in templates if isinstance(t, dict) for key in t if key != "q"}


def validate_spec(spec: dict[str, Any], where: str) -> None:
    """Every reference resolves, every number is in range, every template slot is filled."""
    tables = _tables(spec, where)
    frames = _frames(spec, where, tables)
    styles = spec["styles"]
    if not isinstance(styles, dict) or not styles:
        _fail(where, "styles is empty or not a mapping", "give each style a list of response templates")
    seed = spec.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        _fail(where, f"seed {seed!r} is not an integer", "give seed: as a whole number")
    _rate(where, "context_rate", spec.get("context_rate", 0.0))
    mixes = _chunks(spec, where, frames, styles, tables)
    _planted(spec, where, frames, styles, tables, mixes)
    _weights(where, "default_frames", spec.get("default_frames") or {}, frames)
    _attributes(spec, where, frames, tables)
    _variants(spec, where, frames)
    _rubrics(spec, where, frames, tables)


def _rubrics(spec: dict[str, Any], where: str, frames: dict[str, Any], tables: dict[str, set[str]]) -> None:
    for name, declared in (spec.get("rubrics") or {}).items():
        if not isinstance(declared, dict) or set(declared) - RUBRIC_KEYS:
            _fail(where, f"rubrics {name} has {declared!r}",
                  "give {forms: [...], applies: {frame: [...]}, warranted: {frame: [...]}, claim: text}")
        _judged(spec, where, f"rubrics {name}", declared, frames, tables)
        if "claim" in declared and not isinstance(declared["claim"], str):
            _fail(where, f"rubrics {name} claim {declared['claim']!r} is not text", "give claim: as a sentence with {slots}")


def _judged(spec: dict[str, Any], where: str, owner: str, declared: dict[str, Any], frames: dict[str, Any],
            tables: dict[str, set[str]]) -> None:
    """The judge's part of a rubric or planted entry: its conditions and its forms."""
    for key in ("applies", "warranted"):
        if key in declared:
            _condition(where, f"{owner} {key}", declared[key], frames, tables)
    forms = declared.get("forms", [])
    if not isinstance(forms, list):
        _fail(where, f"{owner} forms is not a list", "list forms as {form: full|partial, styles|pattern|max_words: ..., band: [low, high]}")
    for index, form in enumerate(forms, 1):
        _form(where, f"{owner} form {index}", form, spec["styles"])


def _condition(where: str, owner: str, declared: Any, frames: dict[str, Any], tables: dict[str, set[str]]) -> None:
    if not isinstance(declared, dict) or set(declared) - set(CONDITION_KEYS):
        _fail(where, f"{owner} is {declared!r}", "give a realisation condition {frame: [...], variant: [...], table: [...]}")
    variants = {v for frame in frames.values() for v in frame if v != "table"}
    for key, known in (("frame", set(frames)), ("variant", variants), ("table", set(tables))):
        for value in _as_list(declared.get(key)):
            if value not in known:
                _fail(where, f"{owner} names unknown {key} {value!r}", f"use one of: {', '.join(sorted(known))}")


def _form(where: str, owner: str, form: Any, styles: dict[str, Any]) -> None:
    kinds = [k for k in FORM_KINDS if isinstance(form, dict) and k in form]
    if not isinstance(form, dict) or len(kinds) != 1 or set(form) - {"form", "band", "mismatch", *FORM_KINDS}:
        _fail(where, f"{owner} is {form!r}", "give {form: full|partial, band: [low, high]} and one of styles:, pattern:, max_words:")
    if form.get("form") not in FORM_NAMES:
        _fail(where, f"{owner} has form {form.get('form')!r}", "give form: full or form: partial")
    band = form.get("band")
    if (not isinstance(band, list) or len(band) != 2 or not all(isinstance(b, int) and not isinstance(b, bool) for b in band)
            or not 0 <= band[0] <= band[1] <= 100):
        _fail(where, f"{owner} has band {band!r}", "give band: [low, high] with 0 <= low <= high <= 100")
    if "styles" in form:
        listed = _as_list(form["styles"])
        if not listed:
            _fail(where, f"{owner} lists no styles", "name at least one style")
        for style in listed:
            if style not in styles:
                _fail(where, f"{owner} names unknown style {style!r}", "define it under styles")
    if "mismatch" in form:
        slots = {name[0].lower() + name[1:] for style in _as_list(form.get("styles")) for t in styles.get(style) or []
                 for name in SLOT.findall(str(t))}
        for slot in _as_list(form["mismatch"]):
            if "styles" not in form or slot not in slots:
                _fail(where, f"{owner} mismatch names {slot!r}, not a slot of its styles",
                      f"name slots its styles' templates fill: {', '.join(sorted(slots)) or 'none'}")
    if "pattern" in form:
        try:
            re.compile(str(form["pattern"]))
        except re.error as error:
            _fail(where, f"{owner} pattern {form['pattern']!r} is not a regex ({error})", "fix or escape it")
    if "max_words" in form and (not isinstance(form["max_words"], int) or isinstance(form["max_words"], bool)
                                or form["max_words"] < 0):
        _fail(where, f"{owner} has max_words {form['max_words']!r}", "give max_words: as a whole number >= 0")


def _variants(spec: dict[str, Any], where: str, frames: dict[str, Any]) -> None:
    known = {v for frame in frames.values() for v in frame if v != "table"}
    for name, props in (spec.get("variants") or {}).items():
        if name not in known:
            _fail(where, f"variants names unknown variant {name!r}", "add it to a frame or remove it from variants")
        if not isinstance(props, dict) or set(props) - {"language", "case"} or props.get("case", "lower") != "lower":
            _fail(where, f"variants {name} has {props!r}", "give {language: <name>} and/or {case: lower}")


def _tables(spec: dict[str, Any], where: str) -> dict[str, set[str]]:
    """Each table's slot names (the union of its rows' keys); `numbers` is generated."""
    if not isinstance(spec["tables"], dict):
        _fail(where, "tables is not a mapping", "give each table a list of records")
    out = {"numbers": _number_slots()}
    for name, rows in spec["tables"].items():
        if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
            _fail(where, f"table {name} has no records", f"give table {name} a non-empty list of {{slot: value}} records")
        out[name] = {key for row in rows for key in row}
    return out


def _frames(spec: dict[str, Any], where: str, tables: dict[str, set[str]]) -> dict[str, dict[str, Any]]:
    frames = spec["frames"]
    if not isinstance(frames, dict) or not frames:
        _fail(where, "frames is empty or not a mapping", "define at least one query frame")
    for name, frame in frames.items():
        if not isinstance(frame, dict):
            _fail(where, f"frame {name} is not a mapping", "give it a table and templates per variant")
        if BASE_VARIANT not in frame:
            _fail(where, f"frame {name} has no {BASE_VARIANT!r} variant",
                  f"add {BASE_VARIANT}: templates to frame {name} (the generator falls back to it)")
        home = frame.get("table", "numbers")
        if home not in tables:
            _fail(where, f"frame {name} names unknown table {home!r}", "define it under tables")
        for variant, templates in frame.items():
            if variant == "table":
                continue
            if not isinstance(templates, list) or not templates:
                _fail(where, f"frame {name} variant {variant} has no templates", "give it a non-empty list")
            for template in templates:
                if isinstance(template, dict) and "q" not in template:
                    _fail(where, f"frame {name} variant {variant} has a template without q", "add q: the query text")
    return frames


def _check_slots(where: str, owner: str, templates: list[Any], known: set[str], table: str) -> None:
    for template in templates:
        unknown = sorted(_slots(template) - known)
        if unknown:
            _fail(where, f"{owner} uses unknown slot {{{unknown[0]}}} with table {table}",
                  f"use one of {{{'}, {'.join(sorted(known))}}} or add the field to table {table}")


def _use(where: str, owner: str, use: dict[str, Any], frames: dict[str, Any], styles: dict[str, Any] | None,
         tables: dict[str, set[str]]) -> None:
    """One (frame, variant, table[, style]) use: all names resolve and every slot is filled."""
    name = use.get("frame")
    if name not in frames:
        _fail(where, f"{owner} names unknown frame {name!r}", f"use one of: {', '.join(frames)}")
    frame = frames[name]
    variant = use.get("variant", BASE_VARIANT)
    if variant not in frame or variant == "table":
        _fail(where, f"{owner}: frame {name} has no variant {variant!r}", f"add {variant}: templates to frame {name}")
    table = use.get("table", frame.get("table", "numbers"))
    if table not in tables:
        _fail(where, f"{owner} names unknown table {table!r}", "define it under tables")
    _check_slots(where, f"frame {name} variant {variant}", frame[variant], tables[table], table)
    if styles is None:
        return
    style = use.get("style")
    if style not in styles:
        _fail(where, f"{owner} names unknown style {style!r}", "define it under styles")
    if not isinstance(styles[style], list) or not styles[style]:
        _fail(where, f"style {style} has no templates", "give it a non-empty list of response templates")
    _check_slots(where, f"style {style} (in {owner})", styles[style], tables[table] | _extras(frame[variant]), table)


def _rate(where: str, key: str, value: Any) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= float(value) <= 1.0:
        _fail(where, f"{key} {value!r} is not a rate", f"give {key} between 0 and 1")


def _weights(where: str, owner: str, weights: dict[str, Any], frames: dict[str, Any]) -> None:
    for name, weight in weights.items():
        if name not in frames:
            _fail(where, f"{owner} names unknown frame {name!r}", f"use one of: {', '.join(frames)}")
        if not isinstance(weight, (int, float)) or weight < 0:
            _fail(where, f"{owner} weight {weight!r} for {name} is not a non-negative number", "give weights >= 0")
    if weights and sum(float(w) for w in weights.values()) <= 0:
        _fail(where, f"{owner} weights are all zero", "give at least one a positive weight")


def _chunks(spec: dict[str, Any], where: str, frames: dict[str, Any], styles: dict[str, Any],
            tables: dict[str, set[str]]) -> set[str]:
    """Validates each chunk and returns the `chunk/mix` names `offending` may cite."""
    if not isinstance(spec["chunks"], list) or not spec["chunks"]:
        _fail(where, "chunks is empty or not a list", "define at least one chunk with a mix")
    names: set[str] = set()
    for chunk in spec["chunks"]:
        name = chunk.get("name") if isinstance(chunk, dict) else None
        if not name:
            _fail(where, "a chunk has no name", "give every chunk a name:")
        size = chunk.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            _fail(where, f"chunk {name} has size {size!r}", "give size: as a whole number >= 0")
        if "context_rate" in chunk:
            _rate(where, f"chunk {name} context_rate", chunk["context_rate"])
        mix = chunk.get("mix")
        if not isinstance(mix, list) or not mix:
            _fail(where, f"chunk {name} has no mix", "list its mix entries (frame, style, weight)")
        for entry in mix:
            owner = f"chunk {name} mix {entry.get('name')!r}"
            if not entry.get("name"):
                _fail(where, f"chunk {name} has a mix entry without a name", "give every mix entry a name:")
            weight = entry.get("weight")
            if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight < 0:
                _fail(where, f"{owner} has weight {weight!r}", "give weight: as a number >= 0")
            _use(where, owner, entry, frames, styles, tables)
            names.add(f"{name}/{entry['name']}")
        if sum(float(e["weight"]) for e in mix) <= 0:
            _fail(where, f"chunk {name} has all-zero mix weights", "give at least one mix entry a positive weight")
    return names


def _planted(spec: dict[str, Any], where: str, frames: dict[str, Any], styles: dict[str, Any],
             tables: dict[str, set[str]], mixes: set[str]) -> None:
    from surfturf.rubrics.loader import builtin_names

    chunks = {c["name"] for c in spec["chunks"]}
    rubrics = set(builtin_names()) | set(spec.get("rubrics") or {})
    if not isinstance(spec["planted"], list) or not spec["planted"]:
        _fail(where, "planted is empty or not a list", "plant at least one behaviour")
    for entry in spec["planted"]:
        label = f"planted {entry.get('name', '?')}"
        for key in ("name", "chunk", "feature", "behaviour", "rubric", "trigger_patterns", "probe"):
            if key not in entry:
                _fail(where, f"{label} lacks {key}", "see surfturf/world/default.yaml")
        if entry["chunk"] not in chunks:
            _fail(where, f"{label} names unknown chunk {entry['chunk']!r}", f"use one of: {', '.join(sorted(chunks))}")
        if entry["rubric"] not in rubrics:
            _fail(where, f"{label} names unknown rubric {entry['rubric']!r}",
                  f"use one of: {', '.join(sorted(rubrics))}, or declare it under rubrics:")
        for item in entry.get("offending", []):
            if item not in mixes:
                _fail(where, f"{label} offending {item!r} names no mix", "write it as <chunk>/<mix name>")
        patterns = entry["trigger_patterns"]
        if not isinstance(patterns, list) or not patterns:
            _fail(where, f"{label} has no trigger_patterns", "list regexes that a correct trigger matches")
        for pattern in patterns:
            try:
                re.compile(str(pattern))
            except re.error as error:
                _fail(where, f"{label} trigger pattern {pattern!r} is not a regex ({error})", "fix or escape it")
        _judged(spec, where, label, entry, frames, tables)
        if "balance" in entry:
            _use(where, f"{label} balance", entry["balance"], frames, styles, tables)
        for kind in ("cue", "control"):
            if not isinstance(entry["probe"], dict) or kind not in entry["probe"]:
                _fail(where, f"{label} probe lacks {kind}", "give probe: {cue: {frame: ...}, control: {frame: ...}}")
            _use(where, f"{label} probe {kind}", entry["probe"][kind], frames, None, tables)


def _attributes(spec: dict[str, Any], where: str, frames: dict[str, Any], tables: dict[str, set[str]]) -> None:
    variants = {v for frame in frames.values() for v in frame if v != "table"}
    for attribute in spec.get("attributes") or []:
        label = f"attribute {attribute.get('text', '?')!r}"
        sets = attribute.get("sets") or {}
        for frame in _as_list(sets.get("frame")):
            if frame not in frames:
                _fail(where, f"{label} sets unknown frame {frame!r}", "use a frame defined under frames")
        for variant in _as_list(sets.get("variant")):
            if variant not in variants:
                _fail(where, f"{label} sets unknown variant {variant!r}", "add that variant to a frame")
        for table in _as_list(sets.get("table")):
            if table not in tables:
                _fail(where, f"{label} sets unknown table {table!r}", "define it under tables")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
