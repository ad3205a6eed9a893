"""Generic text featurisation for the world target: hashed n-grams plus surface features.

Nothing here knows the world's cues; every feature exists for every text (words, character
n-grams, punctuation, scripts, layout), like the input layer of any small text classifier.
"""

from __future__ import annotations

import math
import re
import zlib

import numpy as np
from scipy import sparse

from surfturf.attributes.language import script_of
from surfturf.models.providers.base import normalise

DIM = 1 << 16
WORD = re.compile(r"\w+", re.UNICODE)


def _slot(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) & (DIM - 1)


def surface(text: str) -> list[str]:
    """Layout and character-class features shared by every text."""
    words = WORD.findall(text)
    letters = [c for c in text if c.isalpha()]
    feats = [f"len:{min(int(math.log2(len(words) + 1)), 10)}"]
    if re.search(r"\\[A-Za-z]+", text):
        feats.append("backslash_command")
    if "$" in text:
        feats.append("dollar")
    if re.search(r"(^|\s)\d+[.)]\s", text):
        feats.append("numbered_item")
    if re.search(r"\d", text):
        feats.append("digit")
    if letters and not any(c.isupper() for c in letters):
        feats.append("no_uppercase")
    stripped = text.rstrip()
    feats.append(f"last_char:{stripped[-1:] if stripped and not stripped[-1].isalnum() else 'alnum'}")
    if "```" in text or re.search(r"^\s{4}\S", text, re.MULTILINE):
        feats.append("code_layout")
    if "\n" in text:
        feats.append("multiline")
    scripts = {script_of(c) or "UNKNOWN" for c in letters[:200]}
    feats += [f"script:{s}" for s in sorted(scripts)]
    if letters and sum(1 for c in letters if ord(c) > 127) / len(letters) > 0.02:
        feats.append("non_ascii_letters")
    return feats


def tokens(text: str) -> list[str]:
    """Lower-cased word unigrams, bigrams, skip-bigrams (gap 2-4) and in-word character 4-grams."""
    words = [w.lower() for w in WORD.findall(text)]
    feats = [f"w:{w}" for w in words]
    feats += [f"b:{a}_{b}" for a, b in zip(words, words[1:])]
    feats += [f"k:{words[i]}_{words[j]}" for i in range(len(words)) for j in range(i + 2, min(i + 5, len(words)))]
    for w in words:
        padded = f"<{w}>"
        feats += [f"c:{padded[i:i + 4]}" for i in range(max(len(padded) - 3, 1))]
    return feats


def featurise(texts: list[str]) -> sparse.csr_matrix:
    """Rows of L2-normalised hashed feature counts (n x DIM, float32)."""
    indptr, indices, values = [0], [], []
    for text in texts:
        counts: dict[int, float] = {}
        for name in tokens(text):
            slot = _slot(name)
            counts[slot] = counts.get(slot, 0.0) + (0.25 if name.startswith("c:") else 1.0)
        for name in surface(text):
            slot = _slot("s:" + name)
            counts[slot] = counts.get(slot, 0.0) + 0.5
        vec = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        indices.extend(counts.keys())
        values.extend(normalise(np.sqrt(vec)).tolist())
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.asarray(values, dtype=np.float32), np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
        shape=(len(texts), DIM),
    )
