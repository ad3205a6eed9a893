"""Transforms change the surface of a prompt and keep what it asks; context prefixes are well formed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from surfturf.errors import UserError
from surfturf.surf.context import context_prefix, examples_from_candidates, load_icl_examples, read_system_prompt, with_context
from surfturf.steer.perturb import parse_perturbed, perturber_messages, rephrase_instruction
from surfturf.steer.transforms import (
    extraction_framing,
    formal_vocabulary,
    inject_latex,
    resolve_transform,
    translate_instruction,
    two_part,
)


@pytest.mark.parametrize(
    ("plain", "latex"),
    [
        ("Is 5+8=13?", "Is $5 + 8 = 13$?"),
        ("What is 3/4 * x^2 + 5 when x = 2?", r"What is $\frac{3}{4} \times x^{2} + 5$ when $x = 2$?"),
        ("Solve 2x + 3 = 11 for x.", "Solve $2x + 3 = 11$ for x."),
        ("What is sqrt(16) plus 3 squared?", r"What is $\sqrt{16}$ plus $3^{2}$?"),
        ("Find x if x^2 - 4 >= 0.", r"Find x if $x^{2} - 4 \geq 0$."),
        ("If I have 12 apples and eat 5, how many are left?", "If I have $12$ apples and eat $5$, how many are left?"),
        ("What is the capital of France?", "What is the capital of France?"),
        ("Is this well-known x-ray result right?", "Is this well-known x-ray result right?"),
        ("Evaluate $ 5 \\times 3 $ and add 2.", "Evaluate $ 5 \\times 3 $ and add $2$."),
    ],
)
def test_inject_latex(plain: str, latex: str) -> None:
    assert inject_latex(plain) == latex


def test_extraction_framing_keeps_query() -> None:
    framed = extraction_framing("  Is the moon bigger than the earth? ")
    assert framed.startswith("You will be shown")
    assert "Context: Is the moon bigger than the earth?" in framed


def test_formal_vocabulary_keeps_case_and_meaning() -> None:
    got = formal_vocabulary("Explain what peace means. Can you tell me about its history? I need a lot of help.")
    assert got == "Elucidate what peace means. Can you elucidate its history? I require a considerable amount of assist."
    assert formal_vocabulary("Explain peace.") == "Elucidate the notion of peace."
    assert formal_vocabulary("Describe how rain forms.") == "Delineate how rain forms."
    assert formal_vocabulary("Nothing here to formalise?") == "Nothing here to formalise?"
    assert "button" in formal_vocabulary("Press the button")  # whole words only ("but" is not touched)


def test_two_part_layouts() -> None:
    assert two_part("What is 2+2? What is 3+3?") == "1. What is 2+2?\n2. What is 3+3?"
    assert two_part("What is the area of a circle of radius 3 and how does it compare to a square?") == (
        "1. What is the area of a circle of radius 3?\n2. How does it compare to a square?"
    )
    assert two_part("What is a circle?") == "1. What is a circle?\n2. Explain your answer."


def test_resolve_transform(tmp_path: Path) -> None:
    assert resolve_transform("latex").local is inject_latex
    translate = resolve_transform("translate:Swahili")
    assert translate.needs_model and translate.instruction == translate_instruction("Swahili")
    assert translate.instruction.startswith("Translate the query into Swahili.")
    assert resolve_transform("translate").name == "translate:Malay"
    template = tmp_path / "t.txt"
    template.write_text("Q: {query} \\frac{1}{2}\nA:")
    applied = resolve_transform(f"template:{template}")
    assert applied.local("hi") == "Q: hi \\frac{1}{2}\nA:"
    bad = tmp_path / "bad.txt"
    bad.write_text("no placeholder")
    for spec in ("nonsense", f"template:{bad}", "template:/no/such/file", "latex:extra"):
        with pytest.raises(UserError):
            resolve_transform(spec)


def test_perturber_prompt_round_trip() -> None:
    messages = perturber_messages("When did Ada invent X?", rephrase_instruction(2, 5))
    assert "<query>\nWhen did Ada invent X?\n</query>" in messages[-1]["content"]
    assert "<instruction>" in messages[-1]["content"] and "variant 2 of 5" in messages[-1]["content"]
    assert parse_perturbed("Sure!\n<query>Bonjour</query>") == "Bonjour"
    assert parse_perturbed("no tags") is None
    assert parse_perturbed("<query>  </query>") is None


def test_context_prefix_and_examples(tmp_path: Path) -> None:
    prefix = context_prefix("Be helpful.", [("q1", "r1")])
    assert prefix == [
        {"role": "system", "content": "Be helpful."},
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "r1"},
    ]
    assert with_context(prefix, "q")[-1] == {"role": "user", "content": "q"}
    assert context_prefix(None, []) == []
    tulu = tmp_path / "icl.jsonl"
    tulu.write_text(
        json.dumps({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]})
        + "\n"
        + json.dumps({"query": "c", "response": "d"})
        + "\n"
    )
    assert load_icl_examples(tulu, 2) == [("a", "b"), ("c", "d")]
    assert load_icl_examples(tulu, 0) == []
    with pytest.raises(UserError):
        load_icl_examples(tulu, 3)
    system = tmp_path / "sys.txt"
    system.write_text("  Answer plainly.\n")
    assert read_system_prompt(system) == "Answer plainly."
    (tmp_path / "empty.txt").write_text(" ")
    with pytest.raises(UserError):
        read_system_prompt(tmp_path / "empty.txt")


def test_examples_from_candidates_prefers_good_behaviour(tmp_path: Path) -> None:
    rows = [
        {"query": "bad", "response": "x", "score": 90, "violation": True, "error": None},
        {"query": "ok", "response": "y", "score": 30, "violation": False, "error": None},
        {"query": "best", "response": "z", "score": 5, "violation": False, "error": None},
        {"query": "broken", "response": "", "score": None, "violation": False, "error": "judge: x"},
        {"query": "best", "response": "z2", "score": 1, "violation": False, "error": None},
    ]
    path = tmp_path / "candidates.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert examples_from_candidates(path, 2) == [("best", "z"), ("ok", "y")]
    assert examples_from_candidates(path, 1, exclude={"best"}) == [("ok", "y")]
    with pytest.raises(UserError):
        examples_from_candidates(path, 3)
