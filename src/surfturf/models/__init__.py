"""The model layer: one async interface for chat and embeddings across providers, with cache, limits and budgets."""

from surfturf.models.accounting import Budget
from surfturf.models.cache import CACHE_MODES
from surfturf.models.retry import RetryPolicy
from surfturf.models.session import Model, ModelSession
from surfturf.models.specs import PROVIDERS, parse_spec
from surfturf.models.types import ROLES, ChatResult, EmbedResult, GenerateConfig, Message

__all__ = [
    "CACHE_MODES",
    "PROVIDERS",
    "ROLES",
    "Budget",
    "ChatResult",
    "EmbedResult",
    "GenerateConfig",
    "Message",
    "Model",
    "ModelSession",
    "RetryPolicy",
    "parse_spec",
]
