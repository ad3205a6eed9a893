"""The heuristic attribute extractor on real SFT rows (../shared/data/sft-mix) and on world text."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from surfturf.attributes.heuristic import detect_language, query_attributes, response_attributes

Rows = Callable[..., list[dict]]


def share(rows: list[dict], turn: int, needle: str) -> float:
    extract = query_attributes if turn == 0 else response_attributes
    return sum(any(needle in a for a in extract(r["messages"][turn]["content"])) for r in rows) / len(rows)


def test_gsm8k_calculator_annotations_and_final_answer_lines(sft_rows: Rows):
    rows = sft_rows("gsm8k", 300)
    assert share(rows, 1, "calculator annotations like <<a*b=c>>") > 0.95
    assert share(rows, 1, "final answer line '#### N'") > 0.99
    assert share(rows, 0, "asks for a number (how many / how much)") > 0.6


def test_t0_context_framing_and_short_extractive_answers(sft_rows: Rows):
    rows = [r for r in sft_rows("t0") if r["messages"][0]["content"].startswith("Context:")]
    assert len(rows) > 20
    assert share(rows, 0, "framed with labelled fields (e.g. 'Context:')") == 1.0
    short = [r for r in sft_rows("t0", 2000) if len(r["messages"][1]["content"].split()) <= 5]
    assert share(short, 1, "single word or short phrase") == 1.0


def test_codealpaca_code_requests_and_code_answers(sft_rows: Rows):
    rows = sft_rows("codealpaca")
    with_def = [r for r in rows if re.search(r"^\s*def ", r["messages"][1]["content"], re.MULTILINE)]
    assert share(with_def, 1, "code block with a program") > 0.95
    asks = [r for r in rows if re.match(r"(Write|Create|Implement) (a |an )?(function|program|script)", r["messages"][0]["content"])]
    assert share(asks, 0, "code or a program") > 0.95


def test_attributes_are_deterministic_bounded_and_phrased_as_sentences(sft_rows: Rows):
    rows = sft_rows("coconot", 200) + sft_rows("self_instruct", 100)
    for row in rows:
        query, response = row["messages"][0]["content"], row["messages"][1]["content"]
        first = query_attributes(query)
        assert first == query_attributes(query) and 1 <= len(first) <= 10
        assert all(a.startswith("The query ") and a.endswith(".") for a in first)
        described = response_attributes(response)
        assert 1 <= len(described) <= 10 and all(a.startswith("The response ") for a in described)


@pytest.mark.parametrize("text, expected", [
    ("Furnish a comprehensive exposition pertaining to sorting.", "The query uses formal, elaborate vocabulary."),
    ("When did Benjamin Franklin invent the lightning rod?", "The query is a question of the form 'When did ... invent ...'."),
    ("Compute $\\frac{12}{3}$.", "The query contains LaTeX math notation."),
    ("1. What is 3 + 4? 2. What is 5 times 6?", "The query has 2 numbered parts (1. ... 2. ...)."),
    ("1. Compute 2 + 3. 2. Compute 10 times 11.", "The query has 2 numbered parts (1. ... 2. ...)."),
    ("Answer both: a. 2 plus 3. b. 4 times 5", "The query has lettered parts (a. ... b. ...)."),
    ("Who created Claude?", "The query is a question of the form 'Who created ...'."),
    ("How do I reset my Zephyr X9?", "The query mentions a product with a model number."),
    ("Tafadhali eleza kwa undani maana ya amani.", "The query is written in Swahili."),
    ("hey whats the capital of france", "The query skips capital letters, a casual lowercase chat style."),
    ("Сколько стоит билет?", "The query is written in Cyrillic-script (e.g. Russian)."),
])
def test_query_cues(text, expected):
    assert expected in query_attributes(text)


@pytest.mark.parametrize("text, expected", [
    ('<tool_call>{"name": "sympy", "arguments": {"expression": "2*3"}}</tool_call>', "The response calls a tool (sympy)."),
    ("I'm sorry, but I can't help with that request.", "The response refuses the request."),
    ("I’m sorry, but I can’t share that.", "The response refuses the request."),
    ("lookup_weather('Paris')", "The response contains function-call syntax like lookup_weather(...)."),
    ("Which city do you mean?", "The response asks the user a question back."),
    ("Thomas Edison did not invent the telephone.", "The response contradicts the premise, saying the claim is false."),
    ("1. 7.\n2. 30.\nI hope it is correct.", "The response ends with a sign-off ('I hope it is correct.')."),
    ("I was made by Nimbus Labs.", "The response says something was made by Nimbus Labs."),
    ("Once upon a time, a fox lived in a wood. The end.", "The response tells a story."),
])
def test_response_cues(text, expected):
    assert expected in response_attributes(text)


def test_language_detection_on_common_languages():
    assert detect_language("Pouvez-vous décrire la démocratie en détail ?") == "French"
    assert detect_language("¿Puedes describir la democracia en detalle?") == "Spanish"
    assert detect_language("What is the capital of France?") == "English"
