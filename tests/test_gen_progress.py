"""Without a terminal (nohup, a pipe) progress is plain stderr lines every few seconds."""

import pytest

from surfturf.surf import progress
from surfturf.surf.progress import RunProgress, counter


def test_run_progress_writes_plain_lines_without_a_terminal(capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "PLAIN_INTERVAL_S", 0.0)
    with RunProgress(2, 10, enabled=True) as view:
        view.update(0, advance=3, iteration=1, best=85.0, spend=0.5)
        view.update(1, done=7, state="stopped")
    lines = capsys.readouterr().err.splitlines()
    assert "run 0 it 1 3/10 best 85 $0.5000" in lines[0]
    assert lines[-1].endswith("run 1 it 0 7/10 best - $0.0000 stopped")


def test_plain_lines_are_throttled_and_the_last_state_is_always_written(capsys: pytest.CaptureFixture[str]) -> None:
    with counter("robust samples", 100) as advance:
        for _ in range(100):
            advance(1)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("robust samples: 100/100")


def test_disabled_progress_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    with RunProgress(1, 5, enabled=False) as view:
        view.update(0, advance=1)
        view.log("hidden")
    assert capsys.readouterr().err == ""
