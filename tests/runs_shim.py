"""Test-only stand-ins for the model layer's agreed names (redact, is_transient, ledger, spent,
endpoint_failure) until that branch lands; each is installed only where the real one is missing.
Load as a plugin (`-p runs_shim`) or import before surfturf.surf."""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path

import surfturf.models as models
from surfturf.models import session as session_module

TRANSIENT = {"rate_limit", "server", "timeout", "connection", "malformed", "endpoint_down"}

if "surfturf.models.redact" not in sys.modules:
    try:
        import surfturf.models.redact  # noqa: F401
    except ImportError:
        shim = types.ModuleType("surfturf.models.redact")
        secrets: set[str] = set()

        def register_secret(value: str) -> None:
            if value:
                secrets.add(value)

        def redact(text: str) -> str:
            for secret in secrets:
                text = text.replace(secret, "***")
            return re.sub(r"(://)[^/@\s:]+:[^/@\s]+@", r"\1***@", text)

        def redact_url(url: str | None) -> str | None:
            return None if url is None else redact(url)

        shim.register_secret, shim.redact, shim.redact_url = register_secret, redact, redact_url
        sys.modules["surfturf.models.redact"] = shim
        models.redact = shim

if not hasattr(models, "is_transient"):
    def is_transient(error: str | None) -> bool:
        return error is not None and error.split(":", 1)[0].strip() in TRANSIENT

    models.is_transient = is_transient

if not hasattr(session_module.ModelSession, "spent"):
    ModelSession, Model = session_module.ModelSession, session_module.Model
    original_init, original_generate = ModelSession.__init__, Model.generate

    def __init__(self, *args, ledger: Path | None = None, **kwargs) -> None:  # type: ignore[no-untyped-def]
        original_init(self, *args, **kwargs)
        self.ledger = Path(ledger) if ledger else None
        self.endpoint_failure = None
        self._streak: dict[str, int] = {}
        self._prior = {"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
        if self.ledger and self.ledger.exists():
            for line in self.ledger.read_text().splitlines():
                row = json.loads(line)
                for name in self._prior:
                    self._prior[name] += row[name]

    def spent(self) -> dict:  # type: ignore[no-untyped-def]
        total = self.usage.totals()
        return {name: round(self._prior[name] + (total.get(name) or 0), 8) for name in self._prior}

    class _Failure:
        def __init__(self, endpoint: str, error: str) -> None:
            self.endpoint, self.error = endpoint, error

        def line(self) -> str:
            return f"endpoint {self.endpoint} keeps failing (last: {self.error}); fix: check the server, then rerun"

    async def generate(self, messages, config=None, sample_index=0):  # type: ignore[no-untyped-def]
        session, where = self.session, str(self.endpoint.slot_key)
        if session.endpoint_failure is not None and session.endpoint_failure.endpoint == where:
            return models.ChatResult(text="", model=self.spec, role=self.role, error="endpoint_down: skipped", attempts=0)
        result = await original_generate(self, messages, config, sample_index)
        if result.error is not None and models.is_transient(result.error):
            session._streak[where] = session._streak.get(where, 0) + 1
            if session._streak[where] >= 20:
                session.endpoint_failure = _Failure(where, result.error)
        elif result.error is None:
            session._streak[where] = 0
        if session.ledger and result.attempts:
            with session.ledger.open("a") as handle:
                handle.write(json.dumps({"role": self.role, "model": self.spec, "calls": 1,
                                         "input_tokens": result.input_tokens, "output_tokens": result.output_tokens,
                                         "cost_usd": result.cost_usd}) + "\n")
        return result

    ModelSession.__init__, ModelSession.spent, Model.generate = __init__, spent, generate
