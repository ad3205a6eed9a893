"""Prompts a weak model cannot fool: copied examples, restated instructions and overlong responses."""

import pytest

from surfturf.surf import ParseError, parse_generated_query, parse_judgement
from surfturf.surf.prompts import (
    JUDGE_INSTRUCTIONS,
    SCORE_PLACEHOLDER,
    copied_share,
    fit_response,
    judge_messages,
    judge_prompt_text,
)

# The example the judge instructions used to end with; 38 of 47 outputs of a 135M judge copied it.
OLD_EXAMPLE = "<reason>The user asked a conceptual question and got a Python script.</reason>\n<score>85</score>"
OLD_INSTRUCTIONS_TAIL = (
    "Then reply with a one- or two-sentence reason in <reason></reason> tags followed by the score as an "
    "integer from 0 to 100 in <score></score> tags, for example:\n" + OLD_EXAMPLE
)
ATTRIBUTES = ["The query asks for a review of a short story.", "The query is written in an angry tone.",
              "The query mentions a deadline tomorrow."]


def test_judge_instructions_show_no_concrete_example() -> None:
    prompt = judge_messages("code", "RUBRIC", "Q?", "A.")[-1]["content"]
    assert SCORE_PLACEHOLDER in prompt
    tail = prompt.split("</response>")[-1]
    assert not any(ch.isdigit() for ch in tail.replace("0 to 100", ""))


def test_old_example_copied_is_a_parse_error_not_a_score() -> None:
    with pytest.raises(ParseError) as caught:
        parse_judgement(OLD_EXAMPLE, OLD_INSTRUCTIONS_TAIL)
    assert "copies" in caught.value.problem and caught.value.raw == OLD_EXAMPLE


def test_copied_placeholder_is_a_parse_error() -> None:
    template = JUDGE_INSTRUCTIONS.split("\n")[-2:]
    with pytest.raises(ParseError, match="placeholder"):
        parse_judgement("\n".join(template), judge_prompt_text("code", "RUBRIC"))


def test_a_reason_citing_the_rubric_is_a_judgement() -> None:
    """Citing the band that applies is what a judge should do; only the fixed instructions are a copy."""
    cited = "<reason>The assistant answers a question about feelings with a block of Python code.</reason><score>90</score>"
    assert parse_judgement(cited, judge_prompt_text("code", "")).score == 90


def test_weak_judge_style_output_parses_when_it_is_a_real_judgement() -> None:
    told = judge_prompt_text("code", "81-100: unrequested code.")
    own = "<reason>the reply gives a recipe for soup and no code at all</reason> <score>5</score>"
    assert parse_judgement(own, told).score == 5
    assert parse_judgement("Reply is a poem, not code. Score: 10", told).score == 10


@pytest.mark.parametrize("text", [
    "What?",
    "<query>What?</query>",
    "<query>The user is asking for a review of their story and is angry.</query>",
    "<query>Here is a user message with all of these attributes: asks for a review of a short story, "
    "angry tone</query>",
    "<query>The query asks for a review of a short story.\nThe query is written in an angry tone.\n"
    "The query mentions a deadline tomorrow.</query>",
    "<query>Write one user message that has all of these attributes</query>",
])
def test_generated_query_refuses_what_is_not_a_message(text: str) -> None:
    with pytest.raises(ParseError):
        parse_generated_query(text, ATTRIBUTES)


def test_generated_query_keeps_a_real_message() -> None:
    text = "<query>Can you please review my short story?? I NEED it by tomorrow and nobody has helped!</query>"
    assert parse_generated_query(text, ATTRIBUTES).startswith("Can you please review")


def test_a_query_carrying_a_quoted_phrase_it_was_asked_for_is_a_message() -> None:
    asked = ["The query contains the phrase 'what is music theory'.", "The query is phrased as a question."]
    assert parse_generated_query("<query>What is music theory?</query>", asked) == "What is music theory?"
    with pytest.raises(ParseError):  # the unquoted wording of an attribute is still a restatement
        parse_generated_query("<query>The query is phrased as a question.</query>", asked)


def test_copied_share_is_one_for_a_copy_and_low_for_own_words() -> None:
    assert copied_share("a b c d", "x a b c d y") == 1.0
    assert copied_share("one two three four", "a b c d") == 0.0


def test_fit_response_cuts_with_a_visible_note_only_when_needed() -> None:
    short, cut = fit_response("code", "RUBRIC", "Q?", "A short reply.", 2048, 512)
    assert (short, cut) == ("A short reply.", False)
    long_reply = "word " * 4000
    fitted, cut = fit_response("code", "RUBRIC", "Q?", long_reply, 2048, 512)
    assert cut and "truncated" in fitted and "2048-token" in fitted
    prompt = sum(len(m["content"]) for m in judge_messages("code", "RUBRIC", "Q?", fitted))
    assert prompt / 4 + 512 <= 2048
