"""A SURF config whose roles are all served by one scripted server, for tests of the loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROLE_FLAGS = ["--target", "openai-compatible/target", "--generator", "openai-compatible/generator",
              "--judge", "openai-compatible/judge"]

from surfturf.surf import RoleSpec, SurfConfig
from surfturf.testing.server import FakeLLMServer


def code_world(messages: list[dict[str, Any]], model: str) -> str:
    """A responder for `scripted_config` roles: the generator writes its first attribute backwards as the query (a verbatim copy is refused),
    the target writes code for formal queries, and the judge scores code 80 and prose 5."""
    text = messages[-1]["content"]
    if model == "generator":
        return "<query>" + " ".join(text.split("- ")[1].split("\n")[0].split()[::-1]) + "</query>"
    if model == "target":
        return "def f(): pass" if "formal" in text else "prose"
    return "<reason>r</reason><score>80</score>" if "def f" in text else "<reason>r</reason><score>5</score>"


def scripted_config(server: FakeLLMServer, pool: Path, **settings: Any) -> SurfConfig:
    """The code rubric over `pool` with target, generator and judge named as the server's models
    (`openai-compatible/target`, ...), never stopping early; `settings` override any field."""

    def role(name: str) -> RoleSpec:
        return RoleSpec(spec=f"openai-compatible/{name}", base_url=server.base_url)

    defaults: dict[str, Any] = dict(rubric="code", pool=str(pool), target=role("target"), generator=role("generator"),
                                    judges=[role("judge")], patience=0)
    return SurfConfig(**(defaults | settings))
