"""Inspect AI interop: a run as an `.eval` log, a rubric as an Inspect scorer, a run's findings as a task.

Needs the `inspect` extra. Absolute imports only: this package's name is also the stdlib's `inspect`.
"""

from surfturf.inspect.log import run_eval_log, write_run_eval
from surfturf.inspect.scorer import rubric_scorer, violation_rate
from surfturf.inspect.task import findings_task

__all__ = ["findings_task", "rubric_scorer", "run_eval_log", "violation_rate", "write_run_eval"]
