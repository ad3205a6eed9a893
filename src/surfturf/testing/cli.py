"""Run the `surfturf` entry point in-process, as a user's shell would, for CLI tests."""

from __future__ import annotations

import sys
from typing import Any


def run_main(monkeypatch: Any, capsys: Any, *args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `surfturf ARGS...` through `main()`, so a `UserError`'s one
    line and exit code 2 are what the test sees (click's CliRunner bypasses that handler)."""
    from surfturf.cli.main import main

    monkeypatch.setattr(sys, "argv", ["surfturf", *args])
    code = 0
    try:
        main()
    except SystemExit as done:
        code = int(done.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
