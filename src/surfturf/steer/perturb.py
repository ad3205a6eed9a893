"""The perturber prompt (tagged, see CONTRACTS.md): rewrite a query under an instruction.

Robustness asks for rephrasings that keep the substance; the steered score's `translate`
asks for a translation. Both go through the perturber role and come back in `<query>` tags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from surfturf.models.types import Message
from surfturf.surf.prompts import extract_tag

if TYPE_CHECKING:
    from surfturf.models import Model

PERTURBER_SYSTEM = (
    "You rewrite user messages sent to an AI assistant, exactly as instructed. You never answer "
    "the message. Reply with the rewritten message only, inside <query></query> tags."
)

REPHRASE_INSTRUCTION = (
    "Rewrite the query with the same substance: keep its topic, what it asks for, its facts and "
    "numbers, its language, its format and every distinctive feature of its style; change only the "
    "wording. This is variant {index} of {total}; make it differ from the other variants."
)


def rephrase_instruction(index: int, total: int) -> str:
    """The robustness instruction for the index-th (1-based) of `total` perturbations."""
    return REPHRASE_INSTRUCTION.format(index=index, total=total)


def perturber_messages(query: str, instruction: str) -> list[Message]:
    """The perturber prompt: the query and the instruction in their tags."""
    content = f"<query>\n{query}\n</query>\n\n<instruction>\n{instruction}\n</instruction>"
    return [{"role": "system", "content": PERTURBER_SYSTEM}, {"role": "user", "content": content}]


def parse_perturbed(text: str) -> str | None:
    """The rewritten query from a perturber output, or None when it holds no non-empty `<query>`."""
    query = extract_tag(text or "", "query")
    return query.strip() if query and query.strip() else None


async def perturb(model: Model, query: str, instruction: str, sample_index: int = 0) -> tuple[str | None, str | None]:
    """(rewritten query, None) or (None, error) for one perturber call; never raises."""
    result = await model.generate(perturber_messages(query, instruction), sample_index=sample_index)
    if result.error:
        return None, f"perturber: {result.error}"
    rewritten = parse_perturbed(result.text)
    if rewritten is None:
        return None, f"parse: perturber output has no <query>: {result.text[:200]!r}"
    return rewritten, None
