"""Contrastive lexical descriptors: words, phrases and stock sentences concentrated in part of a corpus.

A first pass over the corpus (`Lexicon.fit`) counts, per text, its distinct words, 2- and
3-word phrases, and its first and last sentences. A descriptor is kept when:

- support: it occurs in at least `min_support` texts, the smallest count k for which a term
  expected once by chance would reach k with probability under alpha / m (Poisson tail,
  Bonferroni over the m distinct candidates): too few texts cannot show a pattern;
- not generic: it occurs in at most GENERIC_SHARE of the texts (a word in a fifth of a corpus
  describes no part of it);
- lift: a word's lift is 1 / its document share (how concentrated it is against a term spread over
  every text; above 1 / GENERIC_SHARE by the rule above), and a text's words are described rarest
  first; a phrase's lift is its count over the count expected if its words fell independently
  (N x prod of word shares), kept when that excess is significant at alpha / m by the same Poisson
  tail; a stock sentence needs only support.

All choices come from the corpus (N, m and the counts), so the same code describes a chat mix, a
math set or a tool-call corpus. Ties break by text, so the output is deterministic.

Memory is bounded: each text is read only through `clip` (its first 500 and last 300 characters,
all that the descriptors look at), and `OfflineExtractor.fit` counts a deterministic sample of at
most FIT_SAMPLE texts per side (every n-th row of a larger corpus), so the counts of a 1M-row
corpus take the memory of 50k texts. The significance rules above use the sample's N and counts.
A fitted lexicon is saved as plain JSON (`to_dict` / `from_dict`), never pickled.
"""

from __future__ import annotations

import heapq
import math
import re
import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress
from typing import Any

import numpy as np
from scipy.stats import poisson

from surfturf.attributes.language import ascii_runs, byte_table
from surfturf.attributes.surface import first_sentence, last_sentence

ALPHA = 0.05
GENERIC_SHARE = 0.2
MAX_DESCRIPTORS = 3
TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
ASCII_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)?")  # TOKEN on lowercase ASCII text (twice as fast)
ALNUM_BYTES = byte_table(string.ascii_lowercase + string.digits + "'")  # TOKEN's runs on lowercase ASCII text
LONE_APOSTROPHE = re.compile(r"'(?:(?<![a-z0-9]')|(?![a-z0-9])|[a-z0-9]+')")  # as language.LONE_APOSTROPHE
SENTENCE_WORDS = (2, 12)
HEAD, TAIL = 500, 300  # the first sentence reads 300 characters, tokens 500 + 200, the last sentence 300
FORMAT = "surfturf-lexicon/1"


def clip(text: str) -> str:
    """The part of a text the descriptors read: tokens, first and last sentences see the same."""
    return text if len(text) <= HEAD + TAIL else text[:HEAD] + "\n" + text[-TAIL:]


def tokens(text: str) -> list[str]:
    """Lowercase words of the head (and tail) of a text, where framing and stock phrasing sit."""
    text = text if len(text) <= 700 else text[:500] + " \n " + text[-200:]
    low = text.lower()
    if not low.isascii():
        return TOKEN.findall(low)
    return ASCII_TOKEN.findall(low) if "'" in low and LONE_APOSTROPHE.search(low) else ascii_runs(low, ALNUM_BYTES)


def _terms(text: str) -> tuple[set[str], set[str], str, str]:
    words = tokens(text)
    grams = {" ".join(words[i:i + n]) for n in (2, 3) for i in range(len(words) - n + 1)}
    first, last = first_sentence(text), last_sentence(text)
    keep = lambda s: s if SENTENCE_WORDS[0] <= len(s.split()) <= SENTENCE_WORDS[1] else ""  # noqa: E731
    return set(words), grams, keep(first), keep(last)


def min_support(n_candidates: int, alpha: float = ALPHA) -> int:
    """Smallest k with P(Poisson(1) >= k) < alpha / n_candidates."""
    bound = alpha / max(n_candidates, 1)
    k = 1
    while poisson.sf(k - 1, 1.0) >= bound:
        k += 1
    return k


@dataclass
class Lexicon:
    """The descriptors learned from one side (queries or responses) of a corpus."""

    kind: str
    words: dict[str, float] = field(default_factory=dict)  # term -> lift
    phrases: dict[str, float] = field(default_factory=dict)
    openings: set[str] = field(default_factory=set)
    closings: set[str] = field(default_factory=set)
    n_texts: int = 0
    support: int = 0

    @classmethod
    def fit(cls, texts: Iterable[str], kind: str, alpha: float = ALPHA) -> Lexicon:
        word_df: Counter[str] = Counter()
        gram_df: Counter[str] = Counter()
        first_df: Counter[str] = Counter()
        last_df: Counter[str] = Counter()
        n = 0
        for text in texts:
            n += 1
            words, grams, first, last = _terms(text)
            word_df.update(words)
            gram_df.update(grams)
            if first:
                first_df[first] += 1
            if last:
                last_df[last] += 1
        lexicon = cls(kind, n_texts=n)
        if n == 0:
            return lexicon
        m = len(word_df) + len(gram_df) + len(first_df) + len(last_df)
        support = min_support(m, alpha)
        lexicon.support = support
        ceiling = GENERIC_SHARE * n
        bound = alpha / m
        for word, df in word_df.items():
            if support <= df <= ceiling and len(word) > 2:
                lexicon.words[word] = n / df
        grams = [g for g, df in gram_df.items() if support <= df <= ceiling and any(w in lexicon.words for w in g.split())]
        if grams:
            observed = np.array([gram_df[g] for g in grams], dtype=np.float64)
            expected = np.array([n * math.prod(word_df[w] / n for w in g.split()) for g in grams])
            significant = poisson.sf(observed - 1, expected) < bound
            for gram, obs, exp, keep in zip(grams, observed, expected, significant):
                if keep:
                    lexicon.phrases[gram] = float(obs / max(exp, 1e-12))
        lexicon.openings = {s for s, df in first_df.items() if support <= df <= ceiling}
        lexicon.closings = {s for s, df in last_df.items() if support <= df <= ceiling}
        return lexicon

    @cached_property
    def _phrase_index(self) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
        """(first word -> second words) of the kept phrases, and the 2-word heads of 3-word ones:
        a text's phrases are found with dictionary lookups, building only strings that can match."""
        follow: dict[str, set[str]] = {}
        heads: set[str] = set()
        for phrase in self.phrases:
            parts = phrase.split(" ")
            follow.setdefault(parts[0], set()).add(parts[1])
            if len(parts) == 3:
                heads.add(f"{parts[0]} {parts[1]}")
        return {word: frozenset(after) for word, after in follow.items()}, frozenset(heads)

    def _phrases_in(self, words: list[str]) -> set[str]:
        follow, heads = self._phrase_index
        found: set[str] = set()
        last = len(words) - 1
        for i in compress(range(last), map(follow.__contains__, words)):  # the few words a phrase starts with
            word = words[i]
            if words[i + 1] not in follow[word]:
                continue
            pair = f"{word} {words[i + 1]}"
            if pair in self.phrases:
                found.add(pair)
            if i + 1 < last and pair in heads:
                triple = f"{pair} {words[i + 2]}"
                if triple in self.phrases:
                    found.add(triple)
        return found

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "n_texts": self.n_texts, "support": self.support,
                "words": dict(sorted(self.words.items())), "phrases": dict(sorted(self.phrases.items())),
                "openings": sorted(self.openings), "closings": sorted(self.closings)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Lexicon:
        return cls(str(data["kind"]), {str(k): float(v) for k, v in data["words"].items()},
                   {str(k): float(v) for k, v in data["phrases"].items()}, set(data["openings"]), set(data["closings"]),
                   int(data["n_texts"]), int(data["support"]))

    def describe(self, text: str, limit: int = MAX_DESCRIPTORS, sentences_only: bool = False) -> list[str]:
        """Up to `limit` descriptors of `text`: stock sentences first, then (unless `sentences_only`)
        phrases, then words."""
        the = f"The {self.kind}"
        out: list[str] = []
        if self.openings or self.closings:
            first, last = first_sentence(text), last_sentence(text)
            if first in self.openings:
                out.append(f"{the} opens with the sentence '{first}'")
            if last in self.closings and last != first:
                out.append(f"{the} ends with the sentence '{last}'")
        if sentences_only:
            return [a + "." for a in out[:limit]]
        words = tokens(text)
        present = self.words.keys() & set(words)
        phrases = sorted(self._phrases_in(words), key=lambda g: (-g.count(" "), -self.phrases[g], g))
        covered: list[str] = []  # a phrase inside one already named adds nothing
        for gram in phrases:
            if len(out) >= limit:
                break
            if any(gram in c for c in covered):
                continue
            out.append(f"{the} contains the phrase '{gram}'")
            covered.append(gram)
        named = {word for phrase in covered for word in phrase.split()}
        room = max(0, limit - len(out))
        for word in heapq.nsmallest(room, present - named, key=lambda w: (-self.words[w], w)):
            out.append(f"{the} contains the word '{word}'")
        return [a + "." for a in out[:limit]]
