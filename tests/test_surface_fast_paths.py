"""The offline extractor's fast paths give what the plain regular expressions they stand in for give:
C-level word splitting on ASCII text, newline-anchored line patterns, and the first-sentence search,
checked on random texts built from the characters each one treats specially."""

from __future__ import annotations

import random
import re

from surfturf.attributes import language, lexical, surface

PIECES = ["a", "B", "xy", "Zed", "'", "’", "don't", "rock'n'roll", "'q'", "1", "42", "_", " ", "  ", "\n", "\t", ".", "!",
          "?", ":", ")", "(", "-", "*", "•", "#", "def ", "if x:", "}", "{", "Name: ", "1. ", "2) ", "a. ", "(b) ", "é", "İ"]


def texts(n: int = 4000, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 40))) for _ in range(n)]


def test_word_splitting_matches_the_word_patterns() -> None:
    for text in texts():
        assert language.words(text) == language.WORD.findall(text)
        assert lexical.tokens(text) == lexical.TOKEN.findall(text.lower())


def test_line_patterns_match_their_caret_forms() -> None:
    caret = {name: re.compile("^" + getattr(surface, name).pattern[2:], re.MULTILINE)
             for name in ("CODE_LINE", "LABEL", "BULLET", "NUMBERED_LINE")}
    for text in texts(seed=1):
        for name, pattern in caret.items():  # the same matches: same ends (at_lines adds one character), same groups
            found = [(m.end() - 1, m.groups()) for m in getattr(surface, name).finditer(surface.at_lines(text))]
            assert found == [(m.end(), m.groups()) for m in pattern.finditer(text)], name


def test_first_sentence_ends_where_a_split_would() -> None:
    split = re.compile(r"(?<=[.!?:])\s+|\n+")
    for text in texts(seed=2):
        assert surface.first_sentence(text) == split.split(text.strip()[:300], maxsplit=1)[0].strip()
