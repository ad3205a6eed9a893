"""A SURF config whose roles are all served by one scripted server, for tests of the loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from surfturf.surf import RoleSpec, SurfConfig
from surfturf.testing.server import FakeLLMServer


def scripted_config(server: FakeLLMServer, pool: Path, **settings: Any) -> SurfConfig:
    """The code rubric over `pool` with target, generator and judge named as the server's models
    (`openai-compatible/target`, ...), never stopping early; `settings` override any field."""

    def role(name: str) -> RoleSpec:
        return RoleSpec(spec=f"openai-compatible/{name}", base_url=server.base_url)

    defaults: dict[str, Any] = dict(rubric="code", pool=str(pool), target=role("target"), generator=role("generator"),
                                    judges=[role("judge")], patience=0)
    return SurfConfig(**(defaults | settings))
