"""The model layer: one async interface for chat and embeddings across providers, with cache, limits and budgets."""

from surfturf.models.accounting import Budget
from surfturf.models.cache import CACHE_MODES
from surfturf.models.health import FAILURE_STREAK, FAILURE_WINDOW, EndpointFailure
from surfturf.models.ledger import LEDGER_FILE
from surfturf.models.redact import redact, redact_url, register_secret
from surfturf.models.retry import RetryPolicy, is_transient
from surfturf.models.model import Model
from surfturf.models.session import ModelSession
from surfturf.models.specs import PROVIDERS, parse_spec
from surfturf.models.types import ROLES, ChatResult, EmbedResult, GenerateConfig, Message

__all__ = [
    "CACHE_MODES",
    "FAILURE_STREAK",
    "FAILURE_WINDOW",
    "LEDGER_FILE",
    "PROVIDERS",
    "ROLES",
    "Budget",
    "ChatResult",
    "EmbedResult",
    "EndpointFailure",
    "GenerateConfig",
    "Message",
    "Model",
    "ModelSession",
    "RetryPolicy",
    "is_transient",
    "parse_spec",
    "redact",
    "redact_url",
    "register_secret",
]
