"""Context suppression: a system prompt and in-context examples put before every target query.

The paper finds that context suppresses a learned shortcut but does not remove it; these
helpers let `surf run`, `robust` and `steer` measure a behaviour with and without context
(`--system-prompt FILE`, `--icl-examples N`).
"""

from __future__ import annotations

from pathlib import Path
from typing import AbstractSet, Any, Callable, Iterable

from surfturf.data.readers import iter_jsonl_objects
from surfturf.data.rows import tulu_pair
from surfturf.errors import UserError
from surfturf.io.files import read_jsonl
from surfturf.models.types import Message

Example = tuple[str, str]


def context_prefix(system_prompt: str | None, examples: Iterable[Example] = ()) -> list[Message]:
    """The messages that precede the user query: the system prompt, then each example as a turn pair."""
    prefix: list[Message] = []
    if system_prompt and system_prompt.strip():
        prefix.append({"role": "system", "content": system_prompt.strip()})
    for query, response in examples:
        prefix.append({"role": "user", "content": query})
        prefix.append({"role": "assistant", "content": response})
    return prefix


def with_context(prefix: list[Message], query: str) -> list[Message]:
    """The target's messages for one query behind a context prefix."""
    return [*prefix, {"role": "user", "content": query}]


def read_system_prompt(path: Path | None) -> str | None:
    """The text of `--system-prompt FILE`; an unreadable or empty file is a `UserError`."""
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise UserError(f"cannot read system prompt {path}: {error.strerror}", "pass a readable text file") from error
    except UnicodeDecodeError:
        raise UserError(f"system prompt {path} is not UTF-8 text", "pass a UTF-8 text file") from None
    if not text:
        raise UserError(f"system prompt {path} is empty", "write the system prompt in the file, or drop --system-prompt")
    return text


def _example(row: dict, where: str) -> Example:
    if isinstance(row.get("messages"), list):
        user, assistant = tulu_pair(row)
    else:
        user = row.get("query", row.get("prompt"))
        assistant = row.get("response", row.get("completion"))
    if not isinstance(user, str) or not isinstance(assistant, str) or not user.strip() or not assistant.strip():
        raise UserError(f"{where}: no user query and assistant response", "use Tulu `messages` or `query`/`response` fields")
    return user, assistant


def load_icl_examples(path: Path, n: int) -> list[Example]:
    """The first n (query, response) examples of a JSONL file (Tulu `messages` or `query`/`response`)."""
    if n <= 0:
        return []
    examples: list[Example] = []
    for number, row in iter_jsonl_objects(path, "one JSON object with Tulu `messages` or `query`/`response`"):
        examples.append(_example(row, f"{path}:{number}"))
        if len(examples) == n:
            break
    if len(examples) < n:
        raise UserError(f"{path} holds {len(examples)} examples, --icl-examples asks for {n}", "lower N or add examples")
    return examples


def examples_from_candidates(path: Path, n: int, exclude: AbstractSet[str] = frozenset()) -> list[Example]:
    """The n lowest-scored, non-violating candidates of a SURF run: the target behaving well.

    They are the natural in-context examples for a run without an examples file; queries in
    `exclude` (the prompts being measured) are skipped so no prompt answers itself.
    """
    if n <= 0:
        return []
    scored: list[tuple[float, str, str]] = []
    seen: set[str] = set()
    for row in read_jsonl(Path(path)):
        query, response, score = row.get("query"), row.get("response"), row.get("score")
        if row.get("error") or score is None or row.get("violation") or not query or not response:
            continue
        if query in exclude or query in seen:
            continue
        seen.add(query)
        scored.append((float(score), query, response))
    scored.sort(key=lambda item: item[0])
    if len(scored) < n:
        raise UserError(
            f"{path} has {len(scored)} usable non-violating candidates, --icl-examples asks for {n}",
            "lower N or pass --icl-file FILE",
        )
    return [(query, response) for _, query, response in scored[:n]]


def context_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Click flags `--system-prompt FILE`, `--icl-examples N`, `--icl-file FILE` for commands that
    query a target (surf run, robust, steer); the command receives them as keyword arguments."""
    import click

    command = click.option("--icl-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                           help="JSONL of in-context examples (Tulu messages or query/response).")(command)
    command = click.option("--icl-examples", type=click.IntRange(min=0), default=0, show_default=True,
                           help="Put N in-context (query, response) examples before every target query.")(command)
    command = click.option("--system-prompt", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                           default=None, help="Give the target this system prompt (text file).")(command)
    return command


def build_prefix(
    system_prompt: Path | None, icl_examples: int, icl_file: Path | None, candidates: Path | None = None,
    exclude: AbstractSet[str] = frozenset(),
) -> tuple[list[Message], dict[str, object]]:
    """The context prefix from the three flags, and its description for the manifest.

    Examples come from `--icl-file`, else (for commands on a SURF run) the run's best-behaved
    candidates; with neither, asking for examples is a `UserError`.
    """
    system = read_system_prompt(system_prompt)
    if icl_examples and icl_file is not None:
        examples, source = load_icl_examples(icl_file, icl_examples), str(icl_file)
    elif icl_examples and candidates is not None and candidates.is_file():
        examples, source = examples_from_candidates(candidates, icl_examples, exclude), f"{candidates} (lowest-scored)"
    elif icl_examples:
        raise UserError("--icl-examples needs examples", "pass --icl-file FILE (JSONL of query/response or Tulu rows)")
    else:
        examples, source = [], None
    described = {"system_prompt": system, "icl_examples": len(examples), "icl_source": source,
                 "icl_queries": [query for query, _ in examples]}
    return context_prefix(system, examples), described
