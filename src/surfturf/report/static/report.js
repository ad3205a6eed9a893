// Findings list: reads the JSON data island and builds the cards with DOM calls and textContent
// only (never innerHTML), so model text is always shown as text and never parsed as markup.
(function () {
  "use strict";
  var island = document.getElementById("surfturf-data");
  var list = document.getElementById("findings-list");
  if (!island || !list) { return; }
  var data = JSON.parse(island.textContent);
  var findings = data.findings;
  var el = {
    search: document.getElementById("f-search"), min: document.getElementById("f-min"),
    minOut: document.getElementById("f-min-out"), run: document.getElementById("f-run"),
    attr: document.getElementById("f-attr"), sort: document.getElementById("f-sort"),
    viol: document.getElementById("f-viol"), reset: document.getElementById("f-reset"),
    count: document.getElementById("f-count"), form: document.getElementById("controls")
  };

  function node(tag, className, text) {
    var e = document.createElement(tag);
    if (className) { e.className = className; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function band(score) {
    if (typeof score !== "number") { return "none"; }
    if (score > 70) { return "high"; }
    if (score > 50) { return "viol"; }
    if (score > 30) { return "mid"; }
    return "low";
  }

  function pct(x) { return typeof x === "number" ? Math.round(x * 100) + "%" : "\u2013"; }

  function fillSelect(select, values) {
    values.forEach(function (v) {
      var option = node("option", null, v.length > 70 ? v.slice(0, 69) + "\u2026" : v);
      option.value = v;
      option.title = v;
      select.appendChild(option);
    });
  }

  function haystack(f) {
    return [f.query, f.response, f.reason, f.id, f.run, f.error || ""].concat(f.attributes).join("\n").toLowerCase();
  }
  findings.forEach(function (f) { f.text = haystack(f); });

  function card(f) {
    var b = band(f.score);
    var article = node("article", "finding" + (b === "high" ? " is-high" : b === "viol" ? " is-viol" : ""));
    article.id = "finding-" + f.key;
    article.setAttribute("data-score", f.score === null ? "" : String(f.score));
    var head = node("header");
    head.appendChild(node("span", "badge band-" + b, f.score === null ? "n/a" : Math.round(f.score)));
    head.appendChild(node("span", "rank", "#" + f.rank));
    head.appendChild(node("span", "meta", f.run + " \u00b7 iteration " + f.iteration + " \u00b7 " + f.id));
    if (f.violation) { head.appendChild(node("span", "tag viol", "violation")); }
    if (f.traced) { head.appendChild(node("span", "tag", "traced")); }
    if (f.robust_untested) {
      head.appendChild(node("span", "tag", "robustness not tested"));
    } else if (f.robust) {
      head.appendChild(node("span", "tag", "robust " + pct(f.robust[0]) + " [" + pct(f.robust[1]) + ", " + pct(f.robust[2]) + "]"));
    }
    if (f.error) { head.appendChild(node("span", "tag err", f.error)); }
    article.appendChild(head);
    article.appendChild(node("div", "label", "Query"));
    article.appendChild(node("p", "query", f.query));
    article.appendChild(node("div", "label", "Response"));
    var response = node("pre", "response", f.response);
    article.appendChild(response);
    if (f.response.length > 900 || f.response.split("\n").length > 12) {
      response.classList.add("collapsed");
      var more = node("button", "more", "Show the whole response");
      more.type = "button";
      more.addEventListener("click", function () {
        var collapsed = response.classList.toggle("collapsed");
        more.textContent = collapsed ? "Show the whole response" : "Show less";
      });
      article.appendChild(more);
    }
    if (f.reason) {
      article.appendChild(node("div", "label", "Judge"));
      article.appendChild(node("p", "reason", f.reason));
    }
    if (f.attributes.length) {
      var chips = node("div", "chips");
      f.attributes.forEach(function (a) {
        var chip = node("button", "chip" + (el.attr.value === a ? " active" : ""), a);
        chip.type = "button";
        chip.title = "Show only findings with this attribute";
        chip.addEventListener("click", function () {
          el.attr.value = el.attr.value === a ? "" : a;
          render();
        });
        chips.appendChild(chip);
      });
      article.appendChild(chips);
    }
    return article;
  }

  var sorters = {
    "score-desc": function (a, b) { return (b.score === null ? -1 : b.score) - (a.score === null ? -1 : a.score) || a.rank - b.rank; },
    "score-asc": function (a, b) { return (a.score === null ? -1 : a.score) - (b.score === null ? -1 : b.score) || a.rank - b.rank; },
    "rank": function (a, b) { return a.source - b.source || a.rank - b.rank; },
    "run": function (a, b) { return a.run.localeCompare(b.run) || a.iteration - b.iteration || a.rank - b.rank; }
  };

  function render() {
    var words = el.search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var min = Number(el.min.value);
    el.minOut.textContent = String(min);
    var shown = findings.filter(function (f) {
      if (min > 0 && (f.score === null || f.score < min)) { return false; }
      if (el.run.value && f.run !== el.run.value) { return false; }
      if (el.attr.value && f.attributes.indexOf(el.attr.value) < 0) { return false; }
      if (el.viol.checked && !f.violation) { return false; }
      return words.every(function (w) { return f.text.indexOf(w) >= 0; });
    }).sort(sorters[el.sort.value] || sorters["score-desc"]);
    list.replaceChildren();
    var fragment = document.createDocumentFragment();
    shown.forEach(function (f) { fragment.appendChild(card(f)); });
    list.appendChild(fragment);
    if (!shown.length) {
      list.appendChild(node("div", "empty", findings.length ? "No finding matches these filters." : "No findings: no candidate scored above the rubric's threshold."));
    }
    el.count.textContent = "Showing " + shown.length + " of " + findings.length + " findings";
  }

  fillSelect(el.run, data.runs);
  fillSelect(el.attr, data.attributes);
  [el.search, el.min].forEach(function (input) { input.addEventListener("input", render); });
  [el.run, el.attr, el.sort, el.viol].forEach(function (input) { input.addEventListener("change", render); });
  el.form.addEventListener("submit", function (event) { event.preventDefault(); });
  el.reset.addEventListener("click", function () { el.form.reset(); render(); });
  render();
}());
