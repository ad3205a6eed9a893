"""What a steered score counts in a response: a rubric violation (judge), a regex match, or length.

`--measure` accepts `rubric:NAME|PATH`, `regex:PATTERN`, `length` (mean words, a continuous
measure) and `length:<N` / `length:>N` (share of responses under / over N words, binary).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable, Literal

from surfturf.errors import UserError
from surfturf.rubrics import load_rubric
from surfturf.surf.judge import judge_one

if TYPE_CHECKING:
    from surfturf.models import Model
    from surfturf.rubrics.schema import Rubric

# (rubric, query, response) -> (score 0..100 or None, reason, error)
JudgeFn = Callable[["Rubric", str, str], Awaitable[tuple[float | None, str | None, str | None]]]


@dataclass(frozen=True)
class Outcome:
    """One measured response: a value (1/0 for binary measures, words for `length`) or an error."""

    value: float | None
    score: float | None = None
    reason: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Measure:
    """A resolved `--measure`."""

    spec: str
    kind: str  # rubric | regex | length
    rubric: Rubric | None = None
    pattern: re.Pattern[str] | None = None
    bound: tuple[str, int] | None = None  # ("<", N) or (">", N) for a binary length measure

    @property
    def binary(self) -> bool:
        return self.kind != "length" or self.bound is not None

    @property
    def needs_judge(self) -> bool:
        return self.kind == "rubric"

    async def outcome(self, query: str, response: str, judge: JudgeFn | None) -> Outcome:
        """Measure one response to `query` (the prompt the target actually saw)."""
        if self.kind == "regex":
            assert self.pattern is not None
            return Outcome(value=1.0 if self.pattern.search(response) else 0.0)
        if self.kind == "length":
            words = float(len(response.split()))
            if self.bound is None:
                return Outcome(value=words)
            op, limit = self.bound
            return Outcome(value=1.0 if (words < limit if op == "<" else words > limit) else 0.0)
        assert self.rubric is not None and judge is not None
        score, reason, error = await judge(self.rubric, query, response)
        if error or score is None:
            return Outcome(value=None, error=error or "judge: no score")
        return Outcome(value=1.0 if score > self.rubric.threshold else 0.0, score=score, reason=reason)


def resolve_measure(spec: str) -> Measure:
    """Parse `--measure`; a bad regex, rubric or bound is a `UserError`."""
    kind, _, argument = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "rubric" and argument:
        return Measure(spec=spec, kind="rubric", rubric=load_rubric(argument))
    if kind == "regex" and argument:
        try:
            return Measure(spec=spec, kind="regex", pattern=re.compile(argument))
        except re.error as error:
            raise UserError(f"bad regular expression {argument!r}: {error}", "fix the pattern after regex:") from error
    if kind == "length":
        if not argument:
            return Measure(spec=spec, kind="length")
        match = re.fullmatch(r"\s*([<>])\s*(\d+)\s*", argument)
        if match:
            return Measure(spec=spec, kind="length", bound=(match.group(1), int(match.group(2))))
    raise UserError(f"unknown measure {spec!r}", "use rubric:NAME, regex:PATTERN, length, length:<N or length:>N")


def panel_judge(judges: list[Model], combine: Literal["mean", "median"] = "mean") -> JudgeFn:
    """A `JudgeFn` over SURF's `judge_one` (the one judge prompt of the project), panel included."""

    async def judge(rubric: Rubric, query: str, response: str) -> tuple[float | None, str | None, str | None]:
        outcome = await judge_one(judges, rubric, query, response, combine=combine)
        return outcome.score, outcome.reason, outcome.error

    return judge
