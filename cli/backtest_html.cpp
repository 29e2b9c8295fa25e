// `cep backtest --report out.html`: one self-contained page (inline CSS, script and SVG; no
// network, no external file). The report's JSON document (backtest_json.cpp) is embedded as
// <script type="application/json" id="backtest-data">; the page's script draws everything from
// it: the summary, the table per rule (cells with the text output's text), alerts per day (or
// hour) per rule (a row of bars each), the detection-delay histogram, precision against recall, the
// overlap between rules, the frauds no rule caught and the labels by class. When it has drawn
// everything it sets <body data-rendered="ok">; a script error (also one that stops the drawing
// script from being parsed: the listener is in a script of its own before it) sets
// data-error="<message>" and shows it on the page (tests/e2e/check_backtest.py opens the page in
// headless chromium, checks both).
#include "cli/backtest_format.hpp"

namespace cep::cli::backtest {

namespace {

constexpr const char *kHead = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cep backtest</title>
<style>
:root { --ink:#1d2433; --muted:#5b6476; --line:#e3e7ee; --bg:#f5f7fa; --card:#fff;
  --good:#1a7f4b; --bad:#b42318; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width:1180px; margin:0 auto; padding:28px 24px 48px; }
h1 { font-size:24px; margin:0 0 4px; letter-spacing:-0.01em; }
h2 { font-size:16px; margin:0 0 12px; }
.sub { color:var(--muted); margin:0 0 2px; overflow-wrap:break-word; }
.cards { display:grid; grid-template-columns:repeat(5, 1fr); gap:12px; margin:20px 0; }
.card, section { background:var(--card); border:1px solid var(--line); border-radius:10px;
  box-shadow:0 1px 2px rgba(16,24,40,.05); }
.card { padding:14px 16px; }
.card .v { font-size:26px; font-weight:650; font-variant-numeric:tabular-nums; }
.card .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
section { padding:18px 20px; margin:0 0 16px; }
.grid2 { display:grid; grid-template-columns:1fr 1fr; gap:16px; }
.grid2 section { margin:0; }
table { border-collapse:collapse; width:100%; font-variant-numeric:tabular-nums; }
th, td { padding:6px 10px; border-bottom:1px solid var(--line); text-align:right;
  white-space:nowrap; }
th { color:var(--muted); font-weight:600; font-size:12px; background:#fafbfc; }
th:first-child, td:first-child { text-align:left; }
tr.any td { font-weight:650; border-top:2px solid var(--ink); }
td.left, th.left { text-align:left; white-space:normal; }
.swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:7px;
  vertical-align:-1px; }
.legend { display:flex; flex-wrap:wrap; gap:6px 16px; margin:8px 0 0; color:var(--muted);
  font-size:12px; }
svg { display:block; width:100%; height:auto; }
svg text { font-size:11px; fill:var(--muted); }
svg .axis { stroke:#c9cfd9; stroke-width:1; }
svg .gridline { stroke:#eef1f5; stroke-width:1; }
.note { color:var(--muted); font-size:12px; margin:8px 0 0; }
.pill { display:inline-block; padding:1px 8px; border-radius:999px; background:#eef2f7;
  font-size:12px; }
.error { background:#fef3f2; color:var(--bad); border:1px solid #fecdca; padding:12px;
  border-radius:8px; display:none; }
.heat td { text-align:center; }
.heat td:first-child { text-align:left; }
</style>
</head>
)HTML";

constexpr const char *kBody = R"HTML(<body>
<main>
<div id="error" class="error"></div>
<h1>Backtest</h1>
<p class="sub" id="what"></p>
<p class="sub" id="history"></p>
<p class="sub" id="window"></p>
<div class="cards" id="cards"></div>
<section><h2>Per rule</h2><table id="rules"></table><p class="note" id="rules-note"></p></section>
<section><h2 id="buckets-title">Alerts per day</h2><div id="buckets"></div></section>
<div class="grid2">
<section><h2>Time to detection</h2><div id="delays"></div>
<p class="note">Earliest alert of each rule that hit a label, minus the labelled time.</p></section>
<section><h2>Precision and recall</h2><div id="pr"></div></section>
</div>
<div class="grid2" style="margin-top:16px">
<section><h2>Overlap between rules</h2><table id="overlap" class="heat"></table>
<p class="note">Labelled frauds caught by both rules (the diagonal: by the rule).</p></section>
<section><h2>Labels by class</h2><table id="classes"></table></section>
</div>
<section style="margin-top:16px"><h2 id="missed-title">Frauds no rule caught</h2>
<table id="missed"></table></section>
</main>
)HTML";

// The script: formats exactly as backtest_text.cpp does (rounded half up, formatDelay).
constexpr const char *kScript = R"JS(<script>
"use strict";
window.addEventListener("error", function (e) {
  document.body.setAttribute("data-error", String(e.message));
  var box = document.getElementById("error");
  box.textContent = "This page failed to draw: " + e.message;
  box.style.display = "block";
});
</script>
<script>
"use strict";
(function () {
  var D = JSON.parse(document.getElementById("backtest-data").textContent);
  var COLORS = ["#2563eb", "#e8590c", "#0d9488", "#c026d3", "#ca8a04", "#dc2626", "#4f46e5",
                "#16a34a", "#db2777", "#0891b2", "#7c3aed", "#65a30d"];
  var SVGNS = "http://www.w3.org/2000/svg";
  function color(i) { return COLORS[i % COLORS.length]; }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in (attrs || {})) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in (attrs || {})) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function rounded(v, digits) {
    var scale = digits === 1 ? 10 : 100;
    var units = Math.floor(v * scale + 0.5);
    var neg = units < 0;
    var d = String(Math.abs(units));
    while (d.length <= digits) d = "0" + d;
    return (neg ? "-" : "") + d.slice(0, d.length - digits) + "." + d.slice(d.length - digits);
  }
  function percent(v) { return v === null ? "-" : rounded(v * 100, 1) + "%"; }
  function fixed2(v) { return v === null ? "-" : rounded(v, 2); }
  function pad2(n) { return (n < 10 ? "0" : "") + n; }
  function delay(ms) {
    if (ms === null) return "-";
    var sign = ms < 0 ? "-" : "", v = Math.abs(ms);
    if (v < 1000) return sign + v + "ms";
    if (v < 60000) return sign + Math.floor(v / 1000) + "." + Math.floor(v % 1000 / 100) + "s";
    if (v < 3600000) return sign + Math.floor(v / 60000) + "m" + pad2(Math.floor(v % 60000 / 1000)) + "s";
    if (v < 86400000) return sign + Math.floor(v / 3600000) + "h" + pad2(Math.floor(v % 3600000 / 60000)) + "m";
    return sign + Math.floor(v / 86400000) + "d" + pad2(Math.floor(v % 86400000 / 3600000)) + "h";
  }
  function swatch(i) { var s = el("span", {"class": "swatch"}); s.style.background = color(i); return s; }
  function legend(names) {
    var box = el("div", {"class": "legend"});
    names.forEach(function (n, i) { var item = el("span"); item.appendChild(swatch(i)); item.appendChild(document.createTextNode(n)); box.appendChild(item); });
    return box;
  }
  function niceMax(v) {
    if (v <= 0) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v))), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  var R = D.rules, names = R.map(function (r) { return r.rule; });

  document.getElementById("what").textContent =
    "Rules " + D.run.rules.join(" ") + " over " + D.run.inputs.join(" ") +
    " \u00b7 order " + D.run.order + ", at end " + D.run.at_end + ", engine " + D.run.engine;
  document.getElementById("history").textContent = D.history.events === 0 ? "No events." :
    D.history.events + " events from " + D.history.first + " to " + D.history.last +
    " (" + fixed2(D.history.days) + " days)";
  document.getElementById("window").textContent =
    D.labels.total + " labels in " + D.run.labels + "; an alert hits a label of its key from " +
    delay(D.run.lookback_ms) + " before to " + delay(D.run.horizon_ms) + " after the labelled time" +
    (D.labels.outside_history ? "; " + D.labels.outside_history + " labels lie outside the history" : "");

  // Summary cards.
  var cards = document.getElementById("cards");
  [["alerts", String(D.any.alerts)], ["precision", percent(D.any.precision)],
   ["recall", percent(D.any.recall)], ["frauds missed", D.labels.missed + " of " + D.labels.total],
   ["median time to detection", delay(D.any.delay_median_ms)]].forEach(function (c) {
    var card = el("div", {"class": "card", "data-card": c[0]});
    card.appendChild(el("div", {"class": "k"}, c[0]));
    card.appendChild(el("div", {"class": "v"}, c[1]));
    cards.appendChild(card);
  });

  // The table per rule: the same cells as the text output.
  var cols = ["rule", "alerts", "per day", "TP", "FP", "precision", "caught", "recall",
              "median delay", "p90 delay"];
  var table = document.getElementById("rules");
  var head = el("tr");
  cols.forEach(function (c) { head.appendChild(el("th", {}, c)); });
  table.appendChild(head);
  function cells(r) {
    return [r.rule, String(r.alerts), fixed2(r.alerts_per_day), String(r.true_positives),
            String(r.false_positives), percent(r.precision), String(r.caught), percent(r.recall),
            delay(r.delay_median_ms), delay(r.delay_p90_ms)];
  }
  R.concat([D.any]).forEach(function (r, i) {
    var tr = el("tr", {"data-rule": r.rule});
    if (i === R.length) tr.setAttribute("class", "any");
    cells(r).forEach(function (text, c) {
      var td = el("td", {"data-col": cols[c]});
      if (c === 0 && i < R.length) td.appendChild(swatch(i));
      td.appendChild(document.createTextNode(text));
      tr.appendChild(td);
    });
    table.appendChild(tr);
  });
  var notes = [];
  R.forEach(function (r) {
    if (r.keyless > 0) notes.push(r.keyless + " of " + r.rule + "'s alerts have no key (no partition by): they cannot hit a label.");
  });
  if (D.any.at_end > 0)
    notes.push(D.any.at_end + " of the alerts were written only because the input ended (--at-end fire).");
  document.getElementById("rules-note").textContent = notes.join(" ");

  // Alerts per day (or hour) per rule: one row of bars per rule, each on its own scale (its
  // largest count at the right), so a rule with few alerts is as readable as a noisy one.
  (function () {
    var B = D.alerts_per_bucket, n = B.starts.length;
    document.getElementById("buckets-title").textContent =
      "Alerts per " + B.bucket + " (UTC), per rule";
    var box = document.getElementById("buckets");
    if (n === 0) { box.appendChild(el("p", {"class": "note"}, "No events and no alerts.")); return; }
    var W = 1100, L = 130, Rm = 140, rowH = 40, T = 4, Bm = 22, plotW = W - L - Rm;
    var H = T + rowH * names.length + Bm;
    var svg = sv("svg", {viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "alerts per " + B.bucket + " per rule"});
    var slot = plotW / n, bw = Math.max(1, Math.min(64, slot * 0.72));
    B.counts.forEach(function (row, r) {
      var top = T + rowH * r, base = top + rowH - 8, h0 = rowH - 14;
      var max = Math.max.apply(null, row.concat([0])), total = row.reduce(function (s, v) { return s + v; }, 0);
      svg.appendChild(sv("line", {x1: L, x2: L + plotW, y1: base, y2: base, "class": "axis"}));
      svg.appendChild(sv("text", {x: L - 10, y: base - 8, "text-anchor": "end", style: "font-size:12px;fill:#1d2433"}, names[r]));
      svg.appendChild(sv("text", {x: L + plotW + 10, y: base - 8}, total + " (max " + max + ")"));
      row.forEach(function (v, b) {
        if (!v) return;
        var h = Math.max(1.5, h0 * v / max);
        var rect = sv("rect", {x: L + slot * b + (slot - bw) / 2, y: base - h, width: bw, height: h, rx: 1.5, fill: color(r), "data-rule": names[r], "data-bucket": B.starts[b]});
        rect.appendChild(sv("title", {}, names[r] + ": " + v + " alerts, " + B.starts[b]));
        svg.appendChild(rect);
      });
    });
    var every = Math.max(1, Math.ceil(n / 12));
    B.starts.forEach(function (start, b) {
      if (b % every !== 0) return;
      var label = B.bucket === "day" ? start.slice(5, 10) : start.slice(5, 10) + " " + start.slice(11, 16);
      svg.appendChild(sv("text", {x: L + slot * b + slot / 2, y: H - 6, "text-anchor": "middle"}, label));
    });
    box.appendChild(svg);
    box.appendChild(el("p", {"class": "note"}, "Each rule on its own scale: the right column gives its total and its largest " + B.bucket + "."));
  })();

  // The detection-delay histogram: one bar per rule in each bin.
  (function () {
    var bins = D.delay_bins, box = document.getElementById("delays");
    var W = 540, H = 250, L = 36, T = 10, Bm = 40, plotW = W - L - 8, plotH = H - T - Bm;
    var max = niceMax(Math.max.apply(null, [1].concat.apply([1], R.map(function (r) { return r.delay_histogram; }))));
    var svg = sv("svg", {viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "detection delay histogram"});
    for (var g = 0; g <= 4; g++) {
      var y = T + plotH - plotH * g / 4;
      svg.appendChild(sv("line", {x1: L, x2: W - 8, y1: y, y2: y, "class": g ? "gridline" : "axis"}));
      svg.appendChild(sv("text", {x: L - 6, y: y + 4, "text-anchor": "end"}, String(Math.round(max * g / 4 * 100) / 100)));
    }
    var slot = plotW / bins.length, inner = slot * 0.8, bw = inner / Math.max(1, R.length);
    bins.forEach(function (bin, b) {
      R.forEach(function (r, i) {
        var v = r.delay_histogram[b];
        if (!v) return;
        var h = plotH * v / max;
        var rect = sv("rect", {x: L + slot * b + slot * 0.1 + bw * i, y: T + plotH - h, width: Math.max(1, bw - 1), height: h, fill: color(i)});
        rect.appendChild(sv("title", {}, r.rule + ": " + v + " labels " + bin));
        svg.appendChild(rect);
      });
      svg.appendChild(sv("text", {x: L + slot * b + slot / 2, y: H - 22, "text-anchor": "middle"}, bin));
    });
    box.appendChild(svg);
    box.appendChild(legend(names));
  })();

  // Precision against recall, one dot per rule (and the union).
  (function () {
    var box = document.getElementById("pr");
    var W = 540, H = 250, L = 44, T = 12, Bm = 36, plotW = W - L - 205, plotH = H - T - Bm;
    var svg = sv("svg", {viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "precision and recall"});
    for (var g = 0; g <= 4; g++) {
      var y = T + plotH - plotH * g / 4, x = L + plotW * g / 4;
      svg.appendChild(sv("line", {x1: L, x2: L + plotW, y1: y, y2: y, "class": g ? "gridline" : "axis"}));
      svg.appendChild(sv("line", {x1: x, x2: x, y1: T, y2: T + plotH, "class": g ? "gridline" : "axis"}));
      svg.appendChild(sv("text", {x: L - 6, y: y + 4, "text-anchor": "end"}, (g * 25) + "%"));
      svg.appendChild(sv("text", {x: x, y: T + plotH + 14, "text-anchor": "middle"}, (g * 25) + "%"));
    }
    svg.appendChild(sv("text", {x: L + plotW / 2, y: H - 4, "text-anchor": "middle"}, "recall"));
    var ylab = sv("text", {x: 12, y: T + plotH / 2, "text-anchor": "middle", transform: "rotate(-90 12 " + (T + plotH / 2) + ")"}, "precision");
    svg.appendChild(ylab);
    var listed = 0;
    R.concat([D.any]).forEach(function (r, i) {
      var any = i === R.length, c = any ? "#1d2433" : color(i);
      var text = r.rule + "  " + percent(r.precision) + " / " + percent(r.recall);
      svg.appendChild(sv("text", {x: L + plotW + 12, y: T + 12 + 16 * listed, style: "font-size:10.5px;fill:" + c + (any ? ";font-weight:600" : "")}, text));
      listed++;
      if (r.precision === null || r.recall === null) return;
      var cx = L + plotW * r.recall, cy = T + plotH - plotH * r.precision;
      var dot = any ? sv("rect", {x: cx - 5, y: cy - 5, width: 10, height: 10, fill: c})
                    : sv("circle", {cx: cx, cy: cy, r: 6, fill: c, "fill-opacity": 0.85, stroke: "#fff"});
      dot.appendChild(sv("title", {}, text));
      svg.appendChild(dot);
    });
    box.appendChild(svg);
    box.appendChild(el("p", {"class": "note"}, "Precision: alerts that hit a label. Recall: labels caught. Rules without alerts or labels have no dot; the square is every rule together."));
  })();

  // Overlap: labels caught by both rules, shaded by count.
  (function () {
    var t = document.getElementById("overlap"), O = D.overlap;
    var head = el("tr"); head.appendChild(el("th", {}, ""));
    names.forEach(function (n) { head.appendChild(el("th", {}, n)); });
    t.appendChild(head);
    var max = 1;
    O.forEach(function (row) { row.forEach(function (v) { max = Math.max(max, v); }); });
    O.forEach(function (row, i) {
      var tr = el("tr"), th = el("td"); th.appendChild(swatch(i)); th.appendChild(document.createTextNode(names[i]));
      tr.appendChild(th);
      row.forEach(function (v, j) {
        var td = el("td", {"data-overlap": i + "," + j}, String(v));
        var a = v / max;
        td.style.background = "rgba(37, 99, 235, " + (0.08 + 0.7 * a).toFixed(3) + ")";
        if (a > 0.55) td.style.color = "#fff";
        if (!v) { td.style.background = "transparent"; td.style.color = "#aab1bd"; }
        tr.appendChild(td);
      });
      t.appendChild(tr);
    });
  })();

  // Labels by class.
  (function () {
    var t = document.getElementById("classes");
    var head = el("tr");
    ["class", "labels", "caught", "caught by"].forEach(function (c, i) { head.appendChild(el("th", i === 3 ? {"class": "left"} : {}, c)); });
    t.appendChild(head);
    D.classes.forEach(function (c) {
      var tr = el("tr", {"data-class": c["class"]});
      tr.appendChild(el("td", {}, c["class"]));
      tr.appendChild(el("td", {}, String(c.labels)));
      tr.appendChild(el("td", {}, String(c.caught)));
      var by = el("td", {"class": "left"});
      c.caught_by.forEach(function (v, r) {
        if (!v) return;
        var p = el("span", {"class": "pill"}); p.appendChild(swatch(r)); p.appendChild(document.createTextNode(names[r] + " " + v));
        by.appendChild(p); by.appendChild(document.createTextNode(" "));
      });
      if (!by.childNodes.length) by.textContent = "-";
      tr.appendChild(by);
      t.appendChild(tr);
    });
  })();

  // The frauds no rule caught.
  (function () {
    document.getElementById("missed-title").textContent =
      "Frauds no rule caught: " + D.labels.missed + " of " + D.labels.total;
    var t = document.getElementById("missed");
    if (!D.missed.length) { t.appendChild(el("tr")).appendChild(el("td", {"class": "left"}, "None: every labelled fraud was caught.")); return; }
    var head = el("tr");
    ["key", "time", "class", "line"].forEach(function (c) { head.appendChild(el("th", {"class": "left"}, c)); });
    t.appendChild(head);
    D.missed.slice(0, 500).forEach(function (m) {
      var tr = el("tr", {"data-missed": ""});
      [JSON.stringify(m.key), m.time, m["class"], String(m.line)].forEach(function (v) { tr.appendChild(el("td", {"class": "left"}, v)); });
      t.appendChild(tr);
    });
    if (D.missed.length > 500)
      t.appendChild(el("tr")).appendChild(el("td", {"class": "left", colspan: 4}, "... and " + (D.missed.length - 500) + " more (--format json lists them all)"));
  })();

  document.body.setAttribute("data-rendered", "ok");
})();
</script>
</body>
</html>
)JS";

} // namespace

std::string formatHtml(const Report &report, const Context &context) {
  std::string json = formatJson(report, context);
  // Inside <script>: no "</script>" or "<!--" may appear; "<" as \u003c is the same JSON.
  std::string safe;
  safe.reserve(json.size());
  for (char c : json) {
    if (c == '<') {
      safe += "\\u003c";
    } else if (c != '\n') {
      safe += c;
    }
  }
  std::string out = kHead;
  out += kBody;
  out += "<script type=\"application/json\" id=\"backtest-data\">";
  out += safe;
  out += "</script>\n";
  out += kScript;
  return out;
}

} // namespace cep::cli::backtest
