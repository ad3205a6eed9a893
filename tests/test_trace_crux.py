"""The informed judge's tagged prompt and the parsing of its `<crux>` answer."""

from __future__ import annotations

import asyncio

import pytest

from surfturf.models import ModelSession
from surfturf.testing.server import FakeLLMServer
from surfturf.turf.crux import informed_crux, informed_messages, parse_crux
from surfturf.world import roles

ATTRIBUTES = ["The response is short.", "The response contains a code block with a program.",
              "The response is written in English.", "The response defines a function."]


def test_prompt_carries_the_contract_tags_and_the_world_judge_reads_them() -> None:
    messages = informed_messages("code", "Code is for users who ask for it.", "Elucidate peace.", "def peace(): ...",
                                 ATTRIBUTES)
    user = messages[-1]["content"]
    assert '<rubric name="code">' in user and "<query>\nElucidate peace.\n</query>" in user
    assert roles.tag(user, "response") == "def peace(): ..."
    assert roles.listed(roles.tag(user, "attributes")) == ATTRIBUTES  # numbered 1..n, one per line
    picks = roles.crux("code", roles.listed(roles.tag(user, "attributes")))
    assert 2 in picks  # the world's informed judge picked attribute 2, the code block
    assert parse_crux(f"<crux>{', '.join(map(str, picks))}</crux>", len(ATTRIBUTES)) == [p - 1 for p in picks]


@pytest.mark.parametrize(("text", "expected"), [
    ("<crux>2, 4, 1</crux>", [1, 3, 0]),
    ("Thinking... <crux>1</crux> no wait <CRUX>4 and 2</CRUX>", [3, 1]),  # the last tag wins
    ("<crux>2, 2, 9, 4, 3, 1</crux>", [1, 3, 2]),  # duplicates and out-of-range numbers dropped, 3 kept
])
def test_parse_crux(text: str, expected: list[int]) -> None:
    assert parse_crux(text, len(ATTRIBUTES)) == expected


@pytest.mark.parametrize(("text", "problem"), [("2, 4", "no <crux>"), ("<crux>none</crux>", "names no attribute"),
                                               ("<crux>7</crux>", "names no attribute")])
def test_unparseable_answers_raise_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_crux(text, len(ATTRIBUTES))


def test_informed_crux_through_a_real_http_judge_and_its_failures() -> None:
    answers = iter(["<crux>2, 4</crux>", "no idea"])
    with FakeLLMServer(responder=lambda messages, model: next(answers)).in_thread() as server:
        async def run() -> tuple:
            session = ModelSession(cache_dir=None, cache_mode="off")
            judge = session.model("judge", "openai-compatible/crux", base_url=server.base_url)
            good = await informed_crux(judge, "code", "text", "q", "r", ATTRIBUTES)
            bad = await informed_crux(judge, "code", "text", "q2", "r2", ATTRIBUTES)
            await session.aclose()
            return good, bad

        good, bad = asyncio.run(run())
    assert good.ok and good.crux == [ATTRIBUTES[1], ATTRIBUTES[3]] and good.blind_attributes == ATTRIBUTES
    assert not bad.ok and bad.error.startswith("parse:") and bad.raw == "no idea"
