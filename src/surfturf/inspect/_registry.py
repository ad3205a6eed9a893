"""Inspect's entry point: makes `surfturf/surf_findings` a task name for `inspect eval`."""

from surfturf.inspect.task import surf_findings

__all__ = ["surf_findings"]
