"""The report: sections, escaping of hostile model text, exports, figures, comparison, bad input."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from surfturf.errors import UserError
from surfturf.report import write_report
from surfturf.report.charts import bar_chart, heatmap
from surfturf.report.load import load_run, normalise_query
from surfturf.report.render import json_island, relative_link
from surfturf.report.sample import PAYLOADS, write_sample_run
from surfturf.report.stats import shared_findings
from surfturf.stats import wilson_interval as wilson


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside each <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


def island(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="surfturf-data">(.*?)</script>', html, re.S)
    assert match, "data island missing"
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_run(tmp_path_factory.mktemp("runs") / "modelA", seed=1)


@pytest.fixture(scope="module")
def report_html(sample_run: Path) -> str:
    return write_report([sample_run], figures=False).read_text(encoding="utf-8")


def test_report_has_every_section_for_a_full_run(sample_run: Path, report_html: str) -> None:
    assert (sample_run / "report.html").is_file()
    for section in ("run", "findings", "search", "traces", "robustness", "steering"):
        assert f'<section id="{section}">' in report_html
    assert 'id="comparison"' not in report_html
    assert "When the model sees formal, elaborate vocabulary" in report_html
    assert report_html.count('class="card trace"') == 3  # two traces and one that failed
    assert "This trace failed: crux: no &lt;crux&gt; tag in &#39;&lt;script&gt;window.__pwned=14" in report_html
    assert "world/generator" in report_html and "$0.0576" in report_html  # models and spend
    charts = [attrs.get("aria-label") for tag, attrs in parse(report_html).tags if tag == "svg"]
    assert charts == [  # the sample run has two SURF runs, two traces (and a failed one), robustness and steering
        "Best and mean score per iteration, modelA",
        "Mean top attribute weights", "Top attribute weights, run 0", "Top attribute weights, run 1",
        *["Hit counts by query cluster", "Chunk breakdown"] * 2,
        "Failure rate with 95% intervals",
        "Change in the measure with its interval",
    ]


def test_report_is_self_contained(report_html: str) -> None:
    elements = parse(report_html)
    for tag, attrs in elements.tags:
        assert "src" not in attrs or tag == "img" and str(attrs["src"]).startswith("data:"), (tag, attrs)
        if tag == "link":
            pytest.fail(f"external resource link: {attrs}")
        if tag == "a":
            assert not str(attrs.get("href", "")).startswith(("http:", "https:", "//")), attrs
    assert "@import" not in report_html and "url(http" not in report_html


def test_model_text_never_becomes_markup(report_html: str) -> None:
    elements = parse(report_html)
    # Only our two scripts: the JSON data island and the page's own code.
    assert [attrs.get("type") for tag, attrs in elements.tags if tag == "script"] == ["application/json", None]
    for tag, attrs in elements.tags:
        assert tag not in ("img", "iframe", "textarea"), tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
    assert "__pwned" not in elements.scripts[1]
    # Server-rendered text (rubric, judge model, traces) is escaped, and shown.
    assert "&lt;script&gt;window.__pwned=9&lt;/script&gt;" in report_html
    assert "Formal register &lt;script&gt;window.__pwned=10&lt;/script&gt;" in report_html
    assert "world/judge &lt;script&gt;window.__pwned=8&lt;/script&gt;" in report_html


def test_data_island_round_trips_the_findings_exactly(sample_run: Path, report_html: str) -> None:
    findings = [json.loads(line) for line in (sample_run / "findings.jsonl").read_text().splitlines()]
    data = island(report_html)
    assert [f["id"] for f in data["findings"]] == [f["id"] for f in findings]
    assert [f["query"] for f in data["findings"]] == [f["query"] for f in findings]
    assert [f["response"] for f in data["findings"]] == [f["response"] for f in findings]
    assert any(p in f["query"] for f in findings for p in PAYLOADS), "fixture lost its payloads"
    assert data["runs"] == ["run 0", "run 1"]
    traced = {f["id"] for f in data["findings"] if f["traced"]}
    traces = [json.loads(p.read_text()) for p in (sample_run / "traces").glob("r*.json")]
    assert traced == {t["finding"] for t in traces if not t["error"]} and len(traced) == 2


def test_json_island_escapes_everything_html_could_parse() -> None:
    value = {"t": list(PAYLOADS) + ["<!-- x", "a & b", "\u2028\u2029"]}
    text = str(json_island(value))
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in text
    assert json.loads(text) == value


def test_links_never_start_with_a_scheme(tmp_path: Path) -> None:
    hostile = tmp_path / "javascript:alert(1)" / "findings.csv"
    assert relative_link(hostile, tmp_path) == "./javascript:alert(1)/findings.csv"
    assert relative_link(tmp_path / "a.csv", tmp_path / "sub") == "../a.csv"


def test_csp_allows_exactly_the_page_script(report_html: str) -> None:
    elements = parse(report_html)
    digest = base64.b64encode(hashlib.sha256(elements.scripts[1].encode()).digest()).decode()
    csp = next(attrs["content"] for tag, attrs in elements.tags
               if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy")
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp


def test_charts_escape_labels() -> None:
    hostile = "<script>window.__pwned=1</script>"
    for chart in (bar_chart([hostile], [3.0], title=hostile), heatmap([hostile], [0], [[0.5]], title=hostile)):
        assert "<script" not in str(chart) and "&lt;script&gt;" in str(chart)


def test_exports_csv_and_jsonl(sample_run: Path, report_html: str) -> None:
    findings = [json.loads(line) for line in (sample_run / "findings.jsonl").read_text().splitlines()]
    rows = [json.loads(line) for line in (sample_run / "findings.export.jsonl").read_text().splitlines()]
    assert [r["query"] for r in rows] == [f["query"] for f in findings]
    traced = next(r for r in rows if r["trigger"])
    assert traced["top_chunk"] == "codealpaca" and len(traced["crux"]) == 3
    assert any(r["robust_rate"] is not None for r in rows)
    with (sample_run / "findings.csv").open(newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == len(findings)
    assert table[0]["query"] == findings[0]["query"] and table[0]["response"] == findings[0]["response"]


def test_csv_cells_cannot_become_formulas(tmp_path: Path) -> None:
    run = write_sample_run(tmp_path / "run", traces=False, robust=False, steer=False)
    lines = (run / "findings.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["query"] = "=HYPERLINK(\"http://x\")"
    lines[0] = json.dumps(first)
    (run / "findings.jsonl").write_text("\n".join(lines) + "\n")
    write_report([run], figures=False)
    with (run / "findings.csv").open(newline="", encoding="utf-8") as handle:
        assert next(csv.DictReader(handle))["query"] == "'=HYPERLINK(\"http://x\")"
    assert json.loads((run / "findings.export.jsonl").read_text().splitlines()[0])["query"] == first["query"]


def test_figures_png_and_svg(tmp_path: Path) -> None:
    run = write_sample_run(tmp_path / "run", iterations=2)
    write_report([run])
    names = {p.name for p in (run / "figures").iterdir()}
    traces = [json.loads(p.read_text()) for p in (run / "traces").glob("r*.json")]
    traced = [t["finding"] for t in traces if not t["error"]]
    assert len(traced) == 2
    stems = ["search_progress", "attribute_weights", "robustness", "steer_steer"]
    stems += [f"trace_{kind}_{finding}" for finding in traced for kind in ("hits", "chunks")]
    for stem in stems:
        assert {f"{stem}.png", f"{stem}.svg"} <= names, stem
    png = (run / "figures" / "search_progress.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    for svg in (run / "figures").glob("*.svg"):
        text = svg.read_text()
        assert text.lstrip().startswith("<?xml") and "<script" not in text
    assert 'href="./figures/"' in (run / "report.html").read_text()


def test_comparison_of_two_runs(tmp_path: Path) -> None:
    a = write_sample_run(tmp_path / "sft", seed=1, runs=1, iterations=2, traces=False, robust=False, steer=False)
    b = write_sample_run(tmp_path / "dpo", seed=2, runs=1, iterations=2, rubric="rebut", traces=False,
                         robust=False, steer=False)
    out = write_report([a, b], tmp_path / "cmp" / "compare.html")
    html = out.read_text()
    assert '<section id="comparison">' in html
    assert (tmp_path / "cmp" / "figures" / "compare_violation_rates.png").is_file()
    data = island(html)
    assert data["sources"] == ["sft", "dpo"]
    expected = sum(len((run / "findings.jsonl").read_text().splitlines()) for run in (a, b))
    assert len(data["findings"]) == expected and data["runs"] == ["dpo \u00b7 run 0", "sft \u00b7 run 0"]
    # Different rubrics: one row per RUN. The same rubric: the RUNs side by side in one row.
    assert "Violation rates per rubric" in html and ">rebut<" in html and ">code<" in html
    assert "<th>findings violating</th>" in html and "Only in sft" not in html
    c = write_sample_run(tmp_path / "rl", seed=3, runs=1, iterations=2, traces=False, robust=False, steer=False)
    html = write_report([a, c], tmp_path / "same.html", figures=False).read_text()
    assert "<th>findings violating</th>" not in html and "Only in sft" in html and "Only in rl" in html
    assert re.search(r'<tr><td class="text">code</td><td><strong>\d+%</strong>.*?</td><td><strong>\d+%', html)


def test_shared_findings_match_by_normalised_query(tmp_path: Path) -> None:
    assert normalise_query("  Hello,   WORLD!? ") == normalise_query("hello world") == "hello world"
    runs = []
    for name, queries in (("a", ["Hello, world!", "Only in A"]), ("b", ["hello world", "Only in B", "also B"])):
        run = write_sample_run(tmp_path / name, runs=1, iterations=1, traces=False, robust=False, steer=False)
        records = [{"id": f"{name}{i}", "query": q, "score": 90 - i, "rank": i + 1} for i, q in enumerate(queries)]
        (run / "findings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        runs.append(load_run(run))
    result = shared_findings(runs)
    assert [e["scores"] for e in result["shared"]] == [[90.0, 90.0]]
    assert [[e["query"] for e in u] for u in result["unique"]] == [["Only in A"], ["Only in B", "also B"]]


def test_wilson_interval() -> None:
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-3) and high == pytest.approx(0.7634, abs=1e-3)
    assert wilson(0, 0) == (0.0, 1.0)


def test_running_run_without_findings_and_with_a_torn_line(tmp_path: Path) -> None:
    run = write_sample_run(tmp_path / "live", traces=False, robust=False, steer=False)
    (run / "findings.jsonl").unlink()
    (run / "iterations.jsonl").unlink()
    with (run / "candidates.jsonl").open("a") as handle:
        handle.write('{"id": "r0-i9-c0", "query": "half a rec')
    html = write_report([run], figures=False).read_text()
    assert "No findings.jsonl yet" in html
    data = island(html)
    scores = [f["score"] for f in data["findings"]]
    assert scores and scores == sorted(scores, reverse=True)
    assert '<figure><svg class="chart"' in html  # progress rebuilt from the candidates


def test_bad_input_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        write_report([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not a SURF run directory"):
        write_report([tmp_path / "empty"])
    result = subprocess.run([sys.executable, "-m", "surfturf.cli.main", "report", str(tmp_path / "empty")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: ") and len(result.stderr.strip().splitlines()) == 1


def test_cli_prints_the_report_path(tmp_path: Path) -> None:
    from surfturf.cli.report import report

    run = write_sample_run(tmp_path / "run", runs=1, iterations=2, traces=False, robust=False, steer=False)
    out = tmp_path / "r.html"
    result = CliRunner().invoke(report, [str(run), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == str(out)
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert (run / "figures" / "search_progress.svg").is_file() and (run / "findings.csv").is_file()


async def test_report_of_a_real_surf_run(tmp_path: Path) -> None:
    """A run written by the SURF loop itself (real HTTP server, scripted models) reads and renders."""
    from surfturf.models import ModelSession
    from surfturf.surf import RoleSpec, SurfConfig, run_surf
    from surfturf.testing.server import FakeLLMServer

    payload = PAYLOADS[1]

    def scripted(messages: list[dict], model: str) -> str:
        text = messages[-1]["content"]
        if model == "generator":
            block = text.split("<attributes>")[1].split("</attributes>")[0]
            return "<query>" + " and ".join(" ".join(a.split()[::-1]) for a in re.findall(r"^- (.*)$", block, re.M)) + "</query>"
        if model == "target":
            return f"```python\nprint('peace')\n```\n{payload}"
        return f"<reason>Code for a plain question: {payload}</reason>\n<score>{80 if 'formal' in text else 20}</score>"

    pool = tmp_path / "pool.txt"
    pool.write_text("The query uses formal vocabulary.\nThe query is about <b onmouseover=alert(1)>bold</b>.\n"
                    "The query is about the sea.\nThe query is about mountains.\n")
    async with FakeLLMServer(scripted) as server:
        def role(name: str) -> RoleSpec:
            return RoleSpec(spec=f"openai-compatible/{name}", base_url=server.base_url)

        config = SurfConfig(rubric="code", pool=str(pool), target=role("target"), generator=role("generator"),
                            judges=[role("judge")], runs=1, iterations=2, candidates=6, max_k=3, patience=0, seed=3)
        async with ModelSession(cache_dir=tmp_path / "cache", max_concurrency=8) as session:
            await run_surf(config, session, tmp_path / "run")
    html = write_report([tmp_path / "run"], figures=False).read_text()
    findings = [json.loads(line) for line in (tmp_path / "run" / "findings.jsonl").read_text().splitlines()]
    data = island(html)
    assert findings and [f["response"] for f in data["findings"]] == [f["response"] for f in findings]
    assert payload in data["findings"][0]["response"]
    elements = parse(html)
    assert not any(tag in ("img", "textarea") or any(a.startswith("on") for a in attrs) for tag, attrs in elements.tags)
    assert "openai-compatible/judge" in html
    assert '<figure><svg class="chart"' in html


def test_sparse_and_odd_records_still_render(tmp_path: Path) -> None:
    """Producers may leave optional fields out or null; the report shows what there is."""
    run = tmp_path / "odd"
    (run / "traces").mkdir(parents=True)
    (run / "robust").mkdir()
    (run / "manifest.json").write_text(json.dumps({"config": {"rubric": "rebut"}, "models": {"judge": ["a", "b"]}}))
    (run / "candidates.jsonl").write_text(json.dumps({"id": "x", "query": "q?", "score": None}) + "\n"
                                          + json.dumps({"id": "y", "run": 0, "iteration": 0, "score": 60}) + "\n")
    (run / "findings.jsonl").write_text(json.dumps({"id": "y", "query": None, "score": 60}) + "\n")
    (run / "traces" / "y.json").write_text(json.dumps({"finding": "y", "hits": {"3": 5}, "chunks": [{}]}))
    (run / "robust" / "robust.jsonl").write_text(json.dumps({"finding": "y", "original": {"rate": None}}) + "\n")
    (run / "robust" / "summary.json").write_text(json.dumps({"mean_rate": 0.5}))
    (run / "steer.json").write_text(json.dumps({"targets": [{"target": "t", "difference": 12.5, "low": None}]}))
    html = write_report([run]).read_text()
    assert "a, b" in html and "rubric" in html
    assert island(html)["findings"][0]["score"] == 60
    assert (run / "figures" / "steer.svg").is_file() and (run / "figures" / "trace_hits_y.svg").is_file()


def test_corrupt_candidate_line_and_index_dir_are_user_errors(tmp_path: Path) -> None:
    run = write_sample_run(tmp_path / "run", seed=4)
    lines = (run / "candidates.jsonl").read_text().splitlines()
    (run / "candidates.jsonl").write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n")
    with pytest.raises(UserError, match=r"candidates.jsonl line 2 is not valid JSON"):
        load_run(run)
    index = tmp_path / "index"
    index.mkdir()
    (index / "manifest.json").write_text('{"command": "index build"}')
    (index / "examples.parquet").write_bytes(b"PAR1")
    with pytest.raises(UserError, match="is a TURF index, not a SURF run"):
        load_run(index)
    assert not (index / "report.html").exists()


def test_headline_counts_violations_errors_and_candidates_apart(sample_run: Path, report_html: str) -> None:
    run = load_run(sample_run)
    errors = sum(1 for c in run.candidates if c.get("error"))
    assert re.search(rf"<b>{errors}</b><span>errors \(no score\)</span>", report_html)
    assert re.search(rf"<b>{len(run.candidates)}</b><span>candidates</span>", report_html)
    assert "violating candidates of" in report_html


def test_provisional_findings_are_only_candidates_above_the_threshold(tmp_path: Path) -> None:
    run = tmp_path / "weak"
    run.mkdir()
    rows = [{"id": f"r0-i0-c{i}", "query": f"q{i}", "response": "r", "score": s, "error": None}
            for i, s in enumerate([0.0, 10.0, 85.0, None])]
    (run / "candidates.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (run / "manifest.json").write_text(json.dumps({"config": {"threshold": 50}, "status": "running"}))
    assert [f["id"] for f in load_run(run).findings] == ["r0-i0-c2"]
    rows[2]["score"] = 40.0
    (run / "candidates.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert load_run(run).findings == []


def test_a_failed_run_shows_its_stopped_line(tmp_path: Path) -> None:
    """A run that stopped because an endpoint went down says so at the top of its card, escaped."""
    run = write_sample_run(tmp_path / "run", traces=False, robust=False, steer=False)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest |= {"status": "failed", "stopped": "endpoint http://127.0.0.1:9/v1 gave up after 20 <errors>"}
    (run / "manifest.json").write_text(json.dumps(manifest))
    html = write_report([run], figures=False).read_text()
    assert '<span class="status status-warn">failed</span>' in html
    assert '<p class="stopped">Stopped: endpoint http://127.0.0.1:9/v1 gave up after 20 &lt;errors&gt;</p>' in html


def test_untested_robustness_is_said_as_such(tmp_path: Path) -> None:
    """A finding robust never sampled (n=0) reads "not tested", not an interval [0%, 100%] or a badge."""
    run = write_sample_run(tmp_path / "run", traces=False, steer=False)
    rows = [json.loads(line) for line in (run / "robust" / "robust.jsonl").read_text().splitlines()]
    rows[0]["original"] |= {"rate": None, "low": 0.0, "high": 1.0, "n": 0}
    rows[0] |= {"mean_rate": None, "low": 0.0, "high": 1.0, "n": 0}
    rows[0]["perturbations"] = [p | {"rate": None, "low": 0.0, "high": 1.0, "n": 0} for p in rows[0]["perturbations"]]
    (run / "robust" / "robust.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    html = write_report([run], figures=False).read_text()
    section = html[html.index('id="robustness"'):]
    assert section.count("not tested") >= 2 + len(rows[0]["perturbations"])
    assert "[0%, 100%]" not in section
    finding = next(f for f in island(html)["findings"] if f["id"] == rows[0]["finding"])
    assert finding["robust"] is None and finding["robust_untested"] is True


def test_heatmap_carries_its_colour_scale_and_axis() -> None:
    """A reader can tell what a shade means: the key runs from 0 to the peak probability."""
    svg = str(heatmap(["The query is formal."], [0, 1, 2], [[0.1, 0.4, None]], title="weights"))
    assert "sampling probability" in svg and ">iteration<" in svg
    assert ">0.00<" in svg and ">0.40<" in svg  # both ends of the key, in the data's units


def test_failed_outputs_are_viewable_per_role_and_escaped(tmp_path: Path) -> None:
    """A weak model's unreadable outputs can be read in the report, grouped by the role that wrote them."""
    run = write_sample_run(tmp_path / "run", traces=False, robust=False, steer=False)
    rows = [json.loads(line) for line in (run / "candidates.jsonl").read_text().splitlines()]
    failures = [("parse: generator output has no <query> tag", "Sure! <b>Here</b> is a message"),
                ("parse: judge output has no <score> tag or 'Score: N'", "I think it is fine."),
                ("target: server: HTTP 500: boom", None)]
    for row, (error, raw) in zip(rows, failures):
        row |= {"score": None, "reason": None, "error": error, "raw": raw}
    (run / "candidates.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    html = write_report([run], figures=False).read_text()
    section = html[html.index('class="failed-outputs"'):html.index("</details>", html.index('class="failed-outputs"'))]
    for role in ("generator", "judge", "target"):
        assert f"<h4>{role}: " in section
    assert "<pre>Sure! &lt;b&gt;Here&lt;/b&gt; is a message</pre>" in section
    assert "no output: the call itself failed" in section
