"""Turn one raw corpus record into a (id, source, query, response) row: Tulu messages or column pairs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from surfturf.errors import UserError

# Column pairs accepted for prompt/response style corpora, in order of preference.
COLUMN_PAIRS: tuple[tuple[str, str], ...] = (
    ("prompt", "response"),
    ("instruction", "output"),
    ("question", "answer"),
    ("query", "response"),
    ("prompt", "completion"),
    ("input", "output"),
)
MESSAGE_COLUMNS: tuple[str, ...] = ("messages", "conversations")
USER_ROLES = {"user", "human"}
ASSISTANT_ROLES = {"assistant", "gpt", "model"}


@dataclass(frozen=True)
class CorpusRow:
    """One training example reduced to its first user turn and first assistant turn."""

    id: str
    source: str
    query: str
    response: str
    multi_turn: bool = False

    def tulu(self) -> dict[str, Any]:
        """This row as a Tulu record, the layout every corpus surfturf writes uses."""
        return tulu_record(self.id, self.source, self.query, self.response)


def tulu_record(row_id: str, source: str, query: str, response: str) -> dict[str, Any]:
    """A Tulu record: `id`, `source` and `messages` holding one user turn and one assistant turn."""
    return {"id": row_id, "source": source,
            "messages": [{"role": "user", "content": query}, {"role": "assistant", "content": response}]}


def tulu_pair(record: dict[str, Any]) -> tuple[str, str]:
    """(query, response) of a Tulu record, the inverse of `tulu_record`: the text of its first user turn
    and of its first assistant turn ('' where it has none)."""
    turns = [_turn_text(turn) for turn in record.get("messages") or []]
    query = next((content for role, content in turns if role in USER_ROLES), "")
    response = next((content for role, content in turns if role in ASSISTANT_ROLES), "")
    return query, response


@dataclass
class CorpusStats:
    """What reading saw: rows kept, multi-turn rows, rows skipped and why, rows per source."""

    rows: int = 0
    multi_turn: int = 0
    skipped: Counter = field(default_factory=Counter)
    sources: Counter = field(default_factory=Counter)
    layouts: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "multi_turn": self.multi_turn,
            "skipped": dict(self.skipped),
            "sources": dict(sorted(self.sources.items())),
            "layouts": dict(self.layouts),
        }


@dataclass(frozen=True)
class Layout:
    """How a file stores its rows: a messages column or a (query, response) column pair."""

    messages: str | None = None
    query: str | None = None
    response: str | None = None
    id: str | None = None
    source: str | None = None

    def describe(self) -> str:
        return f"messages column '{self.messages}'" if self.messages else f"columns '{self.query}'/'{self.response}'"


def detect_layout(columns: list[str], where: str) -> Layout:
    """Pick the message column or the first known column pair; a UserError names what was found."""
    present = set(columns)
    id_column = "id" if "id" in present else None
    source_column = "source" if "source" in present else None
    for name in MESSAGE_COLUMNS:
        if name in present:
            return Layout(messages=name, id=id_column, source=source_column)
    for query, response in COLUMN_PAIRS:
        if query in present and response in present:
            return Layout(query=query, response=response, id=id_column, source=source_column)
    accepted = ", ".join(MESSAGE_COLUMNS) + "; or " + ", ".join(f"{q}/{r}" for q, r in COLUMN_PAIRS)
    raise UserError(
        f"{where} has columns {sorted(present)} but no conversation column",
        f"give each row a Tulu 'messages' list or one of these column pairs: {accepted}",
    )


def _turn_text(turn: Any) -> tuple[str, str]:
    """(role, content) of an OpenAI-style or ShareGPT-style turn."""
    if not isinstance(turn, dict):
        return "", ""
    role = turn.get("role", turn.get("from", ""))
    content = turn.get("content", turn.get("value", ""))
    if isinstance(content, list):  # content parts: keep the text ones
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(role or "").lower(), str(content or "")


def make_row(record: dict[str, Any], layout: Layout, default_id: str, default_source: str,
             stats: CorpusStats) -> CorpusRow | None:
    """The row for one record, or None (counted in stats.skipped) when it has no usable pair."""
    row_id = str(record.get(layout.id) or default_id) if layout.id else default_id
    source = str(record.get(layout.source) or default_source) if layout.source else default_source
    multi_turn = False
    if layout.messages:
        turns = record.get(layout.messages)
        if not isinstance(turns, (list, tuple)):
            stats.skipped["messages not a list"] += 1
            return None
        roles = [_turn_text(turn) for turn in turns]
        users = [content for role, content in roles if role in USER_ROLES]
        assistants = [content for role, content in roles if role in ASSISTANT_ROLES]
        if not users or not assistants:
            stats.skipped["no user or no assistant turn"] += 1
            return None
        query, response = users[0], assistants[0]
        multi_turn = len(users) > 1 or len(assistants) > 1
    else:
        query = record.get(layout.query)
        response = record.get(layout.response)
        query = "" if query is None else str(query)
        response = "" if response is None else str(response)
    if not query.strip() or not response.strip():
        stats.skipped["empty query or response"] += 1
        return None
    stats.rows += 1
    stats.multi_turn += int(multi_turn)
    stats.sources[source] += 1
    return CorpusRow(id=row_id, source=source, query=query, response=response, multi_turn=multi_turn)
