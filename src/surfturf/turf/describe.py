"""Attributes of a failing query or response, from the extractor model or the heuristic extractor.

TURF compares these with the index's stored attributes, so they must come from the same extractor
that built the index: the same prompt and parser (surfturf.attributes.extract), or the same
heuristic with the same fitted lexicons (the index's lexicon.json, see TraceContext.offline).
"""

from __future__ import annotations

from surfturf.attributes.extract import Kind, extract_attributes, heuristic_extract
from surfturf.attributes.heuristic import OfflineExtractor
from surfturf.models import Model


class AttributeSource:
    """The extractor role (`model`), or the offline extractor `offline` when `model` is None."""

    def __init__(self, model: Model | None = None, offline: OfflineExtractor | None = None) -> None:
        self.model = model
        self.offline = offline

    @property
    def name(self) -> str:
        return self.model.spec if self.model is not None else "heuristic"

    async def _extract(self, text: str, kind: Kind) -> tuple[list[str], str | None]:
        if self.model is None:
            found = heuristic_extract(text, kind, self.offline)
        else:
            found = await extract_attributes(self.model, text, kind)
        if found.error and not found.attributes:
            return [], found.error
        return found.attributes, None  # a short list still describes the text; only an empty one fails

    async def query(self, text: str) -> tuple[list[str], str | None]:
        return await self._extract(text, "query")

    async def response(self, text: str) -> tuple[list[str], str | None]:
        return await self._extract(text, "response")
