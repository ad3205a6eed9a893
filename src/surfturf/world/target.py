"""The world's target model, trained on a corpus: style router (logistic regression) + realiser.

Training: (1) responses are grouped into styles by k-means over their skeletons (styles.py);
(2) a multinomial logistic regression learns query -> style over generic hashed features
(features.py); (3) to answer, a style is sampled from the predicted distribution (temperature),
the nearest training query of that style is found, and its response is re-aimed at the new
query (realise.py). Every shortcut it shows comes from co-occurrences in the training rows.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from surfturf.data.rows import tulu_pair
from surfturf.errors import UserError
from surfturf.world.features import DIM, featurise
from surfturf.world.realise import realise
from surfturf.world.styles import kmeans, skeleton_vectors

FORMAT = "surfturf-world-target/1"


def _pairs(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(query, response) of each row that has both."""
    return [(query, response) for query, response in map(tulu_pair, rows) if query and response]


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def fit_logistic(x: sparse.csr_matrix, targets: np.ndarray, counts: np.ndarray, seed: int,
                 steps: int = 100, l2: float = 1e-5, lr: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by full-batch Adam on distinct queries.

    `targets` holds each distinct query's style distribution and `counts` how often it occurs,
    so duplicates cost one row. Only columns some row uses are trained; the rest stay zero.
    Returns (weights D x K, bias K).
    """
    used = np.unique(x.indices)
    compact = x[:, used].tocsr()
    xt = compact.T.tocsr()
    classes = targets.shape[1]
    rng = np.random.default_rng(seed)
    weights = (rng.standard_normal((len(used), classes)) * 1e-3).astype(np.float32)
    bias = np.zeros(classes, dtype=np.float32)
    share = (counts / counts.sum()).astype(np.float32)[:, None]
    moments = [np.zeros_like(weights), np.zeros_like(weights), np.zeros_like(bias), np.zeros_like(bias)]
    beta1, beta2 = 0.9, 0.999
    for step in range(1, steps + 1):
        probs = _softmax(compact @ weights + bias)
        error = (probs - targets) * share
        grad_w = np.asarray(xt @ error) + l2 * weights
        grad_b = error.sum(axis=0)
        for grad, param, m, v in ((grad_w, weights, moments[0], moments[1]), (grad_b, bias, moments[2], moments[3])):
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            param -= lr * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + 1e-8)
    full = np.zeros((x.shape[1], classes), dtype=np.float32)
    full[used] = weights
    return full, bias


@dataclass
class WorldTarget:
    """A trained target: style router weights, style labels and the training pairs it realises from."""

    weights: np.ndarray
    bias: np.ndarray
    styles: np.ndarray
    queries: list[str]
    responses: list[str]
    temperature: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        self._x = featurise(self.queries)
        self._members = [np.flatnonzero(self.styles == s) for s in range(len(self.bias))]

    @property
    def n_styles(self) -> int:
        return len(self.bias)

    def style_probabilities(self, query: str) -> np.ndarray:
        """P(style | query) at the target's temperature."""
        logits = np.asarray(featurise([query]) @ self.weights).ravel() + self.bias
        return _softmax(logits / max(self.temperature, 1e-6))

    def respond(self, messages: list[dict[str, str]] | str, seed: int | None = None) -> str:
        """An answer to the last user message; deterministic for a given seed, fresh randomness without."""
        query = messages if isinstance(messages, str) else next(
            (m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
        if not query.strip():
            return "Could you say what you would like help with?"
        rng = random.Random(seed if seed is not None else int.from_bytes(os.urandom(8), "little"))
        probs = self.style_probabilities(query)
        style = rng.choices(range(self.n_styles), weights=probs.tolist())[0]
        members = self._members[style]
        sims = np.asarray(self._x[members] @ featurise([query]).T.toarray()).ravel()
        best = members[int(np.argmax(sims))]
        return realise(self.queries[best], self.responses[best], query)

    def save(self, directory: str | Path) -> Path:
        """Writes weights.npy (used rows), columns.npy, bias.npy, styles.npy and target.json (no pickle), atomically per file."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        columns = np.flatnonzero(np.any(self.weights != 0, axis=1)).astype(np.int32)
        arrays = {"weights": self.weights[columns], "columns": columns, "bias": self.bias, "styles": self.styles}
        for name, array in arrays.items():
            tmp = directory / f".{name}.tmp.npy"
            np.save(tmp, array, allow_pickle=False)
            os.replace(tmp, directory / f"{name}.npy")
        meta = {"format": FORMAT, "dim": DIM, "temperature": self.temperature, "seed": self.seed,
                "queries": self.queries, "responses": self.responses}
        tmp = directory / ".target.json.tmp"
        tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, directory / "target.json")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> WorldTarget:
        directory = Path(directory)
        meta_path = directory / "target.json"
        if not meta_path.is_file():
            raise UserError(f"{directory} holds no trained world target", "run `surfturf world train --out DIR` first")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("dim") != DIM:
            raise UserError(f"{directory} holds a target in another format", "retrain it with `surfturf world train`")
        arrays = {name: np.load(directory / f"{name}.npy", allow_pickle=False)
                  for name in ("weights", "columns", "bias", "styles")}
        weights = np.zeros((DIM, len(arrays["bias"])), dtype=np.float32)
        weights[arrays["columns"]] = arrays["weights"]
        return cls(weights, arrays["bias"], arrays["styles"], meta["queries"], meta["responses"],
                   float(meta["temperature"]), int(meta["seed"]))


def train_target(rows: list[dict[str, Any]], seed: int = 0, n_styles: int = 96,
                 temperature: float = 0.6) -> WorldTarget:
    """Learns styles from the responses and a query -> style router from the pairs."""
    pairs = _pairs(rows)
    if len(pairs) < 10:
        raise UserError(f"only {len(pairs)} usable (user, assistant) rows to train on", "give a corpus with more rows")
    labels = kmeans(skeleton_vectors(pairs), n_styles, seed)
    classes = int(labels.max()) + 1
    distinct: dict[str, int] = {}
    for query, _ in pairs:
        distinct.setdefault(query, len(distinct))
    targets = np.zeros((len(distinct), classes), dtype=np.float32)
    for (query, _), label in zip(pairs, labels):
        targets[distinct[query], label] += 1.0
    counts = targets.sum(axis=1)
    targets /= counts[:, None]
    weights, bias = fit_logistic(featurise(list(distinct)), targets, counts, seed)
    return WorldTarget(weights, bias, labels, [q for q, _ in pairs], [r for _, r in pairs], temperature, seed)
