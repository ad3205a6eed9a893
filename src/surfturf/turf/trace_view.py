"""Readable terminal summaries (rich) of traces, keyword counts and conditional statistics."""

from __future__ import annotations

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0.0:
        return "<1e-300"
    return f"{value:.2g}" if value < 0.001 else f"{value:.3f}"


def _short(text: str, limit: int = 90) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def trace_panel(record: dict, n_evidence: int = 3) -> Panel:
    """One finding's trace: the sentence, crux, both triggers, chunks, evidence and rare keywords."""
    title = escape(f"{record['finding']}  [{record['rubric']}]")
    if record.get("error"):
        return Panel(Text(f"not traced: {record['error']}", style="red"), title=title)
    parts: list = [Text(record["sentence"], style="bold"), Text("")]
    parts.append(Text("crux: " + "; ".join(record["crux"])))
    verdict = record.get("verdict") or {}
    if verdict and not verdict.get("attributable"):
        return Panel(Text(f"{record['sentence']}\ncrux: " + "; ".join(record["crux"]), style="yellow"), title=title)
    for label, key in (("trigger (most hits)", "trigger_by_hits"), ("trigger (enrichment)", "trigger")):
        trigger = record.get(key) or record["trigger"]
        per_crux = ", ".join(str(h) for h in trigger.get("hits_by_crux", []))
        parts.append(Text(f"{label}: {trigger['text']}  -> cluster {trigger['cluster']} "
                          f"\"{_short(trigger['cluster_summary'], 60)}\": {trigger['hits']} of {trigger['k']} "
                          f"retrieved examples (per crux, of {record['k']}: {per_crux}), "
                          f"lift {trigger['lift']:.1f}, q={_p(trigger['p_adjusted'])}"))
    chunks = Table(title="chunks (most enriched first)", title_justify="left")
    for column in ("source", "hits", "share", "corpus share", "lift", "q"):
        chunks.add_column(column, justify="left" if column == "source" else "right")
    for row in record["chunks"]:
        chunks.add_row(escape(row["source"]), str(row["hits"]), f"{row['share']:.1%}", f"{row['corpus_share']:.1%}",
                       f"{row['lift']:.2f}", _p(row["p_adjusted"]))
    parts.append(chunks)
    if record["evidence"]:
        evidence = Table(title="evidence (most similar first)", title_justify="left")
        for column in ("id", "source", "sim", "query", "response"):
            evidence.add_column(column, overflow="fold")
        for item in record["evidence"][:n_evidence]:
            evidence.add_row(escape(item["id"]), escape(item["source"]), f"{item['similarity']:.2f}",
                             escape(_short(item["query"], 60)), escape(_short(item["response"], 60)))
        parts.append(evidence)
    if record.get("baseline"):  # differential trace: what the failing model's data has that the other's lacks
        other = "target" if record.get("traced") == "baseline" else "baseline"
        parts.append(Text(f"vs {other} data: " + record["baseline"]["sentence"], style="cyan"))
    if record["keywords"]:
        parts.append(Text("rare words: " + "; ".join(
            f"'{k['word']}' {k['count']}x, {k['concentration']:.0%} in {k['top_source']} (corpus {k['corpus_share']:.0%})"
            for k in record["keywords"])))
    return Panel(Group(*parts), title=title)


def print_traces(records: list[dict], console: Console | None = None) -> None:
    console = console or Console()
    for record in records:
        console.print(trace_panel(record))


def print_keywords(rows: list[dict], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="keyword attribution (documents containing the word)")
    for column in ("word", "count", "top source", "concentration", "corpus share", "lift", "q", "by source"):
        table.add_column(column, no_wrap=column in ("word", "top source"))
    for row in rows:
        by_source = ", ".join(f"{source} {count}" for source, count in row["sources"].items())
        table.add_row(escape(row["word"]), str(row["count"]), escape(row["top_source"] or "-"), f"{row['concentration']:.0%}",
                      f"{row['corpus_share']:.0%}", f"{row['lift']:.2f}", _p(row["p_adjusted"]), escape(_short(by_source, 60)))
    console.print(table)


def _rate(rate: dict) -> str:
    if not rate["n"]:
        return "-"
    return f"{rate['p']:.0%} ({rate['hits']}/{rate['n']}, {rate['low']:.0%}-{rate['high']:.0%})"


def print_conditional(result: dict, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=escape(f"P({result['response_feature']} | {result['query_feature']})"))
    for column in ("chunk", "given query feature", "without it (chunk background)", "outside the chunk", "share of feature"):
        table.add_column(column)
    for row in result["chunks"]:
        table.add_row(escape(row["source"]), _rate(row["given"]), _rate(row["without"]), _rate(row["outside"]),
                      f"{row['with_feature_share']:.0%}")
    overall = result["overall"]
    table.add_row("all", _rate(overall["given"]), _rate(overall["without"]), "", "", style="bold")
    console.print(table)
