"""One failing (query, response) pair to trace, with what is already known about it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Case:
    """A finding to trace. `crux` given skips both judges; `blind_attributes` skips the blind one;
    `query_attributes` skips the query's extraction (the benchmark and tests give them)."""

    finding: str
    query: str
    response: str
    rubric: str
    rubric_text: str = ""
    rubric_title: str = ""
    score: float | None = None
    blind_attributes: list[str] | None = None
    crux: list[str] | None = None
    query_attributes: list[str] | None = None
