"""How a candidate's error names the role that failed: `<role>: <model error>` for a failed call,
`parse: <role> output ...` for output that could not be read. Read by the loop (is it worth a retry?)
and the report (whose raw outputs to show)."""

from __future__ import annotations

ROLES = ("generator", "target", "baseline", "judge")


def model_error(error: str) -> str:
    """The model layer's error under the role prefix ("target: server: 503" -> "server: 503")."""
    head, sep, rest = error.partition(": ")
    return rest if sep and head in ROLES else error


def failing_role(error: str) -> str:
    """The role an error came from; other errors (budget, endpoint) belong to the run."""
    head, _, rest = error.partition(":")
    if head in ROLES:
        return head
    first = rest.split(None, 1)[0] if rest.strip() else ""
    return first if head == "parse" and first in ROLES else "run"
