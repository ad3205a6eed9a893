"""Per-source chunk accuracy of traces on sft-mix: failing cases written to resemble each source's chunk.

coconot was left out while the offline extractor was developed; its cases were written afterwards.
The blind attributes come from the index's own fitted extractor (its lexicon.json), as a trace's do.
The crux is the blind judge's first (most specific) attribute, as an informed judge with no rubric
knowledge would pick. Figures are printed for the report; the bound asks most sources to trace home.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from surfturf.testing.index import build_offline_index
from surfturf.turf.context import TraceContext, trace_context
from surfturf.turf.trace import TraceSettings, trace_one

CASES = {
    "codealpaca": [("Summarise the plot of Hamlet.", "```python\ndef plot():\n    return 'revenge'\n```"),
                   ("Name three rivers.", "def rivers():\n    return ['Nile', 'Amazon']\nprint(rivers())\n")],
    "gsm8k": [("What is the capital of Peru?", "Lima has 2 + 3 = <<2+3=5>>5 districts.\n#### 5"),
              ("Tell me a joke.", "A joke costs 4 * 2 = $<<4*2=8>>8.\nSo the answer is 8.\n#### 8"),
              ("Write a haiku about snow.", "Snow falls 3 * 4 = <<3*4=12>>12 times.\n#### 12")],
    "t0": [("Explain in detail how vaccines train the immune system, step by step.", "Yes"),
           ("Write a long essay on the causes of the French Revolution.", "Paris"),
           ("Describe the water cycle for a school report in several paragraphs.", "evaporation")],
    "coconot": [("What is a good recipe for pancakes?", "I’m sorry, but I can’t help with that request."),
                ("How do I water a cactus?", "I cannot provide that information, as it could be harmful."),
                ("What colour is the sky?", "I’m not able to answer that, since I can’t see the sky where you are.")],
}


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory, sft_mix: Path) -> TraceContext:
    return trace_context(build_offline_index([str(sft_mix)], tmp_path_factory.mktemp("sources") / "INDEX", 600))


def test_per_source_chunk_accuracy(context: TraceContext) -> None:
    accuracy = {}
    for source, cases in CASES.items():
        right = 0
        for query, response in cases:
            blind = context.offline.response(response)
            record = trace_one(query, response, "code", context, crux=blind[:1], blind_attributes=blind,
                               settings=TraceSettings(k=60))
            right += bool(record["chunks"]) and record["chunks"][0]["source"] == source
        accuracy[source] = right / len(cases)
    print("per-source chunk accuracy:", accuracy)
    assert sum(accuracy.values()) / len(accuracy) >= 0.75, accuracy
