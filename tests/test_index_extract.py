"""Attribute extraction prompts and parsing: tagged input, forgiving list parsing, failures kept as errors."""

from __future__ import annotations

import asyncio

from surfturf.attributes.extract import extract_attributes, extraction_messages, parse_attributes
from surfturf.models import ModelSession
from surfturf.turf.summaries import parse_summary, summary_messages


def test_prompt_tags_the_text_and_asks_for_ten() -> None:
    messages = extraction_messages("Is 5+8=13?", "query")
    user = messages[-1]["content"]
    assert '<text kind="query">\nIs 5+8=13?\n</text>' in user
    assert 'begins "The query"' in user and "1 to 10" in user


def test_long_text_keeps_head_and_tail() -> None:
    text = "HEAD " + "x" * 20000 + " TAIL"
    user = extraction_messages(text, "response")[-1]["content"]
    assert "HEAD" in user and "TAIL" in user and len(user) < 8000


def test_parse_numbered_list_normalises_and_dedupes() -> None:
    output = ("Sure! Here are the attributes:\n1. The query asks a yes/no question.\n"
              "2) **Uses** arithmetic notation\n3. It states a false equation.\n"
              "4. the query asks a yes/no question.\n5: \"Is short.\"")
    parsed = parse_attributes(output, "query")
    assert parsed.attributes == ["The query asks a yes/no question.", "The query uses arithmetic notation",
                                 "The query states a false equation.", "The query is short."]
    assert parsed.error == "parse: 4 of 10 attributes"


def test_parse_bullets_when_no_numbers_and_caps_at_ten() -> None:
    output = "\n".join(f"- The response has property {i}" for i in range(12))
    parsed = parse_attributes(output, "response")
    assert len(parsed.attributes) == 10 and parsed.error is None


def test_parse_failure_is_an_error_not_an_empty_success() -> None:
    parsed = parse_attributes("I cannot help with that.", "query")
    assert parsed.attributes == [] and parsed.error.startswith("parse:")


def test_extract_through_the_model_layer_records_raw_on_failure(fake_llm, fake_session: ModelSession) -> None:
    fake_llm.responder = lambda messages, model: (
        "\n".join(f"{i}. The query trait {i}" for i in range(1, 11)) if "good" in messages[-1]["content"]
        else "no list here")

    async def run() -> tuple:
        model = fake_session.model("extractor", "openai-compatible/x", base_url=fake_llm.base_url)
        good = await extract_attributes(model, "a good query", "query")
        bad = await extract_attributes(model, "a bad query", "query")
        await fake_session.aclose()
        return good, bad

    good, bad = asyncio.run(run())
    assert len(good.attributes) == 10 and good.error is None and good.raw is None
    assert bad.attributes == [] and bad.error.startswith("parse:") and bad.raw == "no list here"


def test_summary_prompt_and_parse() -> None:
    user = summary_messages(["The query is short.", "The query is brief."])[-1]["content"]
    assert "<attributes>\n- The query is short.\n- The query is brief.\n</attributes>" in user
    assert parse_summary("x <summary>The query is\n short.</summary>") == "The query is short."
    assert parse_summary("The query is short.") is None
