"""Live progress on stderr: one row per run with its iteration, best score and spend."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class RunProgress:
    """A rich display when enabled; a silent stand-in otherwise (tests, the Python API)."""

    def __init__(self, runs: int, per_run: int, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None
        self._tasks: dict[int, TaskID] = {}
        if enabled:
            self._progress = Progress(
                TextColumn("[bold]run {task.fields[run]}[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("it {task.fields[iteration]}  best {task.fields[best]}  ${task.fields[spend]:.4f}  {task.fields[state]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            for run in range(runs):
                self._tasks[run] = self._progress.add_task(
                    "", total=per_run, run=run, iteration=0, best="-", spend=0.0, state=""
                )

    def __enter__(self) -> RunProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(
        self,
        run: int,
        *,
        done: int | None = None,
        advance: int = 0,
        iteration: int | None = None,
        best: float | None = None,
        spend: float | None = None,
        state: str | None = None,
    ) -> None:
        if self._progress is None:
            return
        fields: dict[str, object] = {}
        if iteration is not None:
            fields["iteration"] = iteration
        if best is not None:
            fields["best"] = f"{best:.0f}"
        if spend is not None:
            fields["spend"] = spend
        if state is not None:
            fields["state"] = state
        self._progress.update(self._tasks[run], completed=done, advance=advance or None, **fields)

    def log(self, message: str) -> None:
        """A line above the bars (or on stderr when the display is off)."""
        if self._progress is not None:
            self._progress.console.print(message)
