"""Rich progress for index stages on stderr: count, rate, ETA and spend so far."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second over the recent window."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.1f} {self.unit}/s", style="progress.data.speed")


def stage_progress(console: Console, unit: str, spend: Callable[[], float]) -> Progress:
    """A progress display whose last column is the model spend of this session."""

    class SpendColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(f"${spend():.4f}", style="progress.data.speed")

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(unit),
                    TimeElapsedColumn(), TimeRemainingColumn(), SpendColumn(), console=console, transient=False)
