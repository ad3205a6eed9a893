"""The report in a real browser (Debian chromium, driven by Playwright): the findings render, the
filters work, and no payload hidden in model text runs. `make browser` installs chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from surfturf.report import write_report
from surfturf.report.sample import PAYLOADS, write_sample_run

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason="Debian chromium is not installed at /usr/bin/chromium; run `make browser` "
                              "(apt-get install chromium) to run the browser tests"),
]

# What a payload would leave behind had it run; every probe must come back False.
PROBE = """() => ({
  pwned: typeof window.__pwned !== 'undefined',
  bodyMarked: document.body.hasAttribute('data-pwned'),
  injected: document.querySelectorAll('#findings-list img, #findings-list iframe, #findings-list script,'
    + ' #findings-list textarea, #findings-list [onerror], #findings-list [onload], #findings-list [onmouseover],'
    + ' main img, main iframe, main textarea').length > 0,
})"""


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 900})
        yield context
        context.close()


def open_page(context: Any, path: Path) -> tuple[Any, dict[str, list[str]]]:
    """Open a report from disk, recording dialogs, console lines, page errors and every request."""
    seen: dict[str, list[str]] = {"dialogs": [], "console": [], "errors": [], "requests": []}
    page = context.new_page()
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: seen["console"].append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on("request", lambda request: seen["requests"].append(request.url))
    page.goto(path.as_uri())
    page.wait_for_selector("#findings-list .finding, #findings-list .empty")
    return page, seen


def assert_nothing_ran(page: Any, seen: dict[str, list[str]]) -> None:
    page.wait_for_timeout(150)  # let any onerror / onload handler fire
    assert page.evaluate(PROBE) == {"pwned": False, "bodyMarked": False, "injected": False}
    assert seen["dialogs"] == []
    assert not [line for line in seen["console"] if "pwned" in line or "xss" in line]
    assert seen["errors"] == []
    assert [url for url in seen["requests"] if not url.startswith(("file:", "data:"))] == []


def visible_count(page: Any) -> int:
    return page.locator("#findings-list .finding").count()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    run = write_sample_run(tmp_path_factory.mktemp("browser") / "modelA", seed=1)
    findings = [json.loads(line) for line in (run / "findings.jsonl").read_text().splitlines()]
    return write_report([run], figures=False), findings


def test_findings_render_as_text_and_nothing_runs(browser_context: Any, report: tuple[Path, list],
                                                  tmp_path: Path) -> None:
    path, findings = report
    page, seen = open_page(browser_context, path)
    assert visible_count(page) == len(findings)
    assert page.locator("#f-count").inner_text() == f"Showing {len(findings)} of {len(findings)} findings"
    text = page.locator("#findings-list").inner_text()
    shown = [p for p in PAYLOADS if any(p in f["query"] for f in findings)]
    assert shown, "the fixture's findings carry no payload"
    for payload in shown:
        assert payload.split(" \u2028")[0] in text
    trace_text = page.locator("#traces").inner_text()
    assert "Formal register <script>window.__pwned=10</script>" in trace_text
    page.locator("#run details").evaluate_all("all => all.forEach(d => { d.open = true; })")
    assert "</textarea><script>window.__pwned=9</script>" in page.locator("#run").inner_text()
    assert_nothing_ran(page, seen)
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / "report.png")
    assert shot.stat().st_size > 50_000
    page.close()


def test_escaping_alone_stops_the_payloads(browser_context: Any, report: tuple[Path, list],
                                           tmp_path: Path) -> None:
    """The same page without its Content-Security-Policy: escaping must hold on its own."""
    path, findings = report
    html = path.read_text(encoding="utf-8")
    bare = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    assert bare != html
    unguarded = tmp_path / "report-no-csp.html"
    unguarded.write_text(bare, encoding="utf-8")
    page, seen = open_page(browser_context, unguarded)
    assert visible_count(page) == len(findings)
    for details in page.locator("details").all():
        details.evaluate("d => { d.open = true; }")
    page.locator(".finding button.chip").first.hover()
    assert_nothing_ran(page, seen)
    page.close()


def test_filters_search_and_sort(browser_context: Any, report: tuple[Path, list]) -> None:
    path, findings = report
    page, seen = open_page(browser_context, path)

    page.fill("#f-search", "kant")
    expected = [f for f in findings if "kant" in (f["query"] + f["response"] + (f["reason"] or "")
                                                 + " ".join(f["attributes"])).lower()]
    assert visible_count(page) == len(expected)
    page.fill("#f-search", "")

    page.locator("#f-min").evaluate("e => { e.value = '80'; e.dispatchEvent(new Event('input')); }")
    assert visible_count(page) == sum(1 for f in findings if f["score"] >= 80)
    page.locator("#f-reset").click()
    assert visible_count(page) == len(findings)

    page.select_option("#f-run", "run 1")
    assert visible_count(page) == sum(1 for f in findings if f["run"] == 1)
    page.select_option("#f-run", "")

    attribute = findings[0]["attributes"][0]
    page.locator("#findings-list .finding").first.locator("button.chip").first.click()
    assert page.locator("#f-attr").input_value() == attribute
    assert visible_count(page) == sum(1 for f in findings if attribute in f["attributes"])
    page.locator("#f-reset").click()

    page.select_option("#f-sort", "score-asc")
    scores = [float(s) for s in page.locator("#findings-list .finding").evaluate_all(
        "cards => cards.map(c => c.dataset.score)")]
    assert scores == sorted(f["score"] for f in findings)

    page.fill("#f-search", "no finding has this text")
    assert visible_count(page) == 0 and page.locator(".empty").is_visible()
    assert_nothing_ran(page, seen)
    page.close()


def test_comparison_report_in_the_browser(browser_context: Any, tmp_path: Path) -> None:
    runs = [write_sample_run(tmp_path / name, seed=seed, runs=1, iterations=2, traces=False, robust=False,
                             steer=False) for name, seed in (("sft", 3), ("dpo", 4))]
    path = write_report(runs, tmp_path / "compare.html", figures=False)
    total = sum(len((run / "findings.jsonl").read_text().splitlines()) for run in runs)
    page, seen = open_page(browser_context, path)
    assert visible_count(page) == total
    page.select_option("#f-run", "dpo \u00b7 run 0")
    assert visible_count(page) == len((runs[1] / "findings.jsonl").read_text().splitlines())
    assert "Violation rates per rubric" in page.locator("#comparison").inner_text()
    assert_nothing_ran(page, seen)
    page.close()
