"""One SURF candidate's record as its pipeline fills it, and the errors that drop a candidate unwritten."""

from __future__ import annotations

import time
from typing import Any


class BudgetStop(Exception):
    """A candidate was refused by the budget: it is dropped (not written) and its run stops."""


class EndpointStop(Exception):
    """An endpoint was declared down: the candidate is dropped (a resume redoes it) and the sweep stops."""


class Candidate:
    """One candidate's record as its pipeline fills it, with the tokens, cost and calls it spends."""

    def __init__(self, cid: str, run: int, iteration: int, index: int, attributes: list[str],
                 models: dict[str, str]) -> None:
        self.record: dict[str, Any] = {
            "id": cid, "run": run, "iteration": iteration, "index": index, "attributes": attributes,
            "query": None, "response": None, "score": None, "reason": None, "violation": False,
            "judges": [], "disagreement": None, "error": None, "raw": None, "models": models,
            "tokens": {"input": 0, "output": 0}, "cost_usd": 0.0, "calls": 0, "time_s": 0.0,
        }
        self.started = time.perf_counter()

    def spend(self, input_tokens: int, output_tokens: int, cost_usd: float, calls: int) -> None:
        self.record["tokens"]["input"] += input_tokens
        self.record["tokens"]["output"] += output_tokens
        self.record["cost_usd"] += cost_usd
        self.record["calls"] += calls

    def charge(self, result: Any) -> None:
        """A model call's spend; a cached or never-attempted call is not a call."""
        self.spend(result.input_tokens, result.output_tokens, result.cost_usd,
                   0 if result.cached or result.attempts == 0 else 1)

    def finish(self) -> dict[str, Any]:
        self.record["cost_usd"] = round(self.record["cost_usd"], 8)
        self.record["time_s"] = round(time.perf_counter() - self.started, 4)
        return self.record


def check_call(error: str | None) -> None:
    """Budget refusals and calls to a downed endpoint drop the candidate instead of recording it."""
    if error is None:
        return
    if error.startswith("budget:"):
        raise BudgetStop
    if error.startswith("endpoint_down"):
        raise EndpointStop
