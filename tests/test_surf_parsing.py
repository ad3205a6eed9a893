"""The generator and judge output parsers: robust to chatter, and loud about what failed."""

import pytest

from surfturf.surf import ParseError, parse_generated_query, parse_judgement
from surfturf.surf.prompts import closed_tag, extract_tag, generator_messages, judge_messages


@pytest.mark.parametrize(
    ("text", "score", "reason"),
    [
        ("<reason>Code for a poem.</reason>\n<score>85</score>", 85, "Code for a poem."),
        ("Let me think.\n<reason>Fine.</reason><score> 12 </score>\nDone!", 12, "Fine."),
        ("<reason>Unclosed score</reason><score>70", 70, "Unclosed score"),
        ("```xml\n<reason>Fenced.</reason>\n<score>91</score>\n```", 91, "Fenced."),
        ("The answer wrote Python for a philosophy question. Score: 85", 85, "The answer wrote Python for a philosophy question."),
        ("<reason>ok</reason><score>64/100</score>", 64, "ok"),
        ("<think>maybe 10?</think><reason>r</reason><score>40</score>", 40, "r"),
        ("<score>3</score><score>55</score>", 55, ""),
    ],
)
def test_parse_judgement_accepts_common_shapes(text: str, score: float, reason: str) -> None:
    judgement = parse_judgement(text)
    assert judgement.score == score
    assert judgement.reason == reason


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("I cannot evaluate this.", "no <score>"),
        ("<reason>x</reason><score>high</score>", "not a number"),
        ("<score>150</score>", "outside 0-100"),
    ],
)
def test_parse_judgement_failure_names_the_problem_and_keeps_raw(text: str, problem: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_judgement(text)
    assert problem in caught.value.problem
    assert caught.value.raw == text


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("<query>What is peace?</query>", "What is peace?"),
        ("Sure, here it is:\n<query>\nElucidate the concept of peace.\n</query>\nHope that helps.", "Elucidate the concept of peace."),
        ("<query>No closing tag here", "No closing tag here"),
        ("```\n<query>In a fence</query>\n```", "In a fence"),
        ('<query>"Quoted words"</query>', "Quoted words"),
    ],
)
def test_parse_generated_query(text: str, query: str) -> None:
    assert parse_generated_query(text) == query


@pytest.mark.parametrize("text", ["", "<query>   </query>", "<answer>not a query</answer>", "Is 5+8=13?"])
def test_parse_generated_query_failures(text: str) -> None:
    with pytest.raises(ParseError):
        parse_generated_query(text)


def test_extract_tag_prefers_last_closed_and_allows_attributes() -> None:
    assert extract_tag('<rubric name="code">a</rubric> <rubric name="x">b</rubric>', "rubric") == "b"
    assert extract_tag("nothing", "rubric") is None


def test_an_unclosed_tag_counts_for_a_reply_but_not_for_the_strict_reading() -> None:
    text = "<query>When was it built?<reason>cut short"
    assert extract_tag(text, "query") == "When was it built?" and closed_tag(text, "query") is None
    assert closed_tag("<query>a</query><query >b</query >", "query") == "b"


def test_prompts_carry_the_contract_tags() -> None:
    user = generator_messages(["The query is short.", " The query is in French. "])[-1]["content"]
    assert "<attributes>\n- The query is short.\n- The query is in French.\n</attributes>" in user
    assert "<query>" in user
    judge = judge_messages("code", "RUBRIC TEXT", "Q?", "A.")[-1]["content"]
    assert '<rubric name="code">\nRUBRIC TEXT\n</rubric>' in judge
    assert "<query>\nQ?\n</query>" in judge and "<response>\nA.\n</response>" in judge
    assert "<score>" in judge and "<reason>" in judge
