"""Live progress on stderr: one row per run with its iteration, best score and spend.

With no terminal (nohup, a pipe, a CI log) a live display draws nothing, so progress is then
written as plain lines every few seconds instead.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


# Seconds between plain progress lines when stderr is not a terminal.
PLAIN_INTERVAL_S = 5.0


class PlainLines:
    """Throttled one-line progress reports on stderr, for when no live display can be drawn."""

    def __init__(self, interval_s: float = PLAIN_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._last = time.monotonic()

    def maybe(self, line: Callable[[], str], force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.interval_s:
            self._last = now
            print(line(), file=sys.stderr, flush=True)


def _terminal() -> bool:
    return sys.stderr.isatty()


class RunProgress:
    """A rich display when enabled on a terminal, plain lines every few seconds when enabled without
    one, a silent stand-in otherwise (tests, the Python API)."""

    def __init__(self, runs: int, per_run: int, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None
        self._tasks: dict[int, TaskID] = {}
        self._plain = PlainLines() if enabled and not _terminal() else None
        self._rows = {run: {"done": 0, "total": per_run, "iteration": 0, "best": "-", "spend": 0.0, "state": ""}
                      for run in range(runs)}
        if enabled and self._plain is None:
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
        if self._plain is not None:
            self._plain.maybe(self._line, force=True)

    def _line(self) -> str:
        return "surf: " + "; ".join(
            f"run {run} it {row['iteration']} {row['done']}/{row['total']} best {row['best']} ${row['spend']:.4f}"
            + (f" {row['state']}" if row["state"] else "") for run, row in self._rows.items())

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
        if self._plain is not None:
            row = self._rows[run]
            row["done"] = done if done is not None else row["done"] + advance  # type: ignore[operator]
            row.update({k: v for k, v in (("iteration", iteration), ("spend", spend), ("state", state)) if v is not None})
            if best is not None:
                row["best"] = f"{best:.0f}"
            self._plain.maybe(self._line)
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
        elif self._plain is not None:
            print(message, file=sys.stderr, flush=True)


@contextmanager
def counter(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """An `advance(n)` for `total` steps: a transient bar on a terminal, else a plain line every few seconds."""
    if _terminal():
        with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(label, total=total)
            yield lambda n: bar.advance(task, n)
        return
    plain = PlainLines()
    done = [0]
    started = time.monotonic()

    def line() -> str:
        return f"{label}: {done[0]}/{total} ({time.monotonic() - started:.0f}s)"

    def advance(n: int) -> None:
        done[0] += n
        plain.maybe(line)

    yield advance
    plain.maybe(line, force=True)
