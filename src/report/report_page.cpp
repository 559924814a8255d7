// The report page: one HTML file with its CSS, its data (JSON) and a small
// script that draws the tables and SVG plots from it. Nothing is fetched.
#include <string>

#include "avrec/report.h"

namespace avrec {

namespace {

// The page around the data; DATA_JSON is replaced by the report's data.
constexpr const char* kPage = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>avrec report</title>
<style>
:root { --fg: #1d2433; --muted: #5b6478; --line: #d9dee8; --bg: #f6f7fa; --card: #fff;
        --pos: #2e7d5b; --neg: #b3413b; --acc: #2f5fb3; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
       "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif; color: var(--fg); background: var(--bg); }
header { background: #1d2433; color: #fff; padding: 14px 24px; }
header h1 { margin: 0; font-size: 20px; }
header .sub { color: #c7cede; font-size: 12px; }
nav { position: sticky; top: 0; background: var(--card); border-bottom: 1px solid var(--line); padding: 6px 24px; z-index: 2; }
nav a { margin-right: 16px; color: var(--acc); text-decoration: none; }
main { max-width: 1180px; margin: 0 auto; padding: 12px 24px 48px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
h2 { margin: 0 0 10px; font-size: 17px; }
h3 { margin: 14px 0 6px; font-size: 14px; color: var(--muted); }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.tile .v { font-size: 20px; font-weight: 600; }
.tile .k { color: var(--muted); font-size: 12px; }
.row { display: flex; flex-wrap: wrap; gap: 24px; }
.row > div { flex: 1 1 420px; min-width: 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.pos { color: var(--pos); } .neg { color: var(--neg); }
.warn { background: #fff4e5; border: 1px solid #f0c58a; border-radius: 6px; padding: 6px 10px; margin: 8px 0; }
.note { color: var(--muted); font-size: 12px; }
svg text { font-size: 11px; fill: var(--muted); }
#user-search { width: 320px; max-width: 100%; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
#user-list { margin: 8px 0; display: flex; flex-wrap: wrap; gap: 6px; }
#user-list button { border: 1px solid var(--line); background: var(--bg); border-radius: 14px; padding: 2px 10px; cursor: pointer; font: inherit; }
#user-list button.sel { background: var(--acc); color: #fff; border-color: var(--acc); }
.expl { color: var(--fg); }
.because { color: var(--muted); font-size: 12px; }
code { font-size: 12px; }
</style>
</head>
<body>
<header><h1>avrec report</h1><div class="sub" id="subtitle"></div></header>
<nav><a href="#overview">Overview</a><a href="#sentiment">Sentiment</a><a href="#recommendations">Recommendations</a><a href="#users">Users</a><a href="#changes" id="nav-changes">Changes</a></nav>
<main>
<section id="overview"><h2>Overview</h2><div class="tiles" id="overview-tiles"></div><div id="overview-run"></div></section>
<section id="sentiment"><h2>Sentiment</h2><div id="sentiment-body"></div></section>
<section id="recommendations"><h2>Recommendations</h2><div id="recs-body"></div></section>
<section id="users"><h2>Users</h2>
<p class="note" id="users-note"></p>
<input id="user-search" type="search" placeholder="Search a user id" aria-label="Search a user id">
<div id="user-list"></div>
<div id="user-detail"></div>
</section>
<section id="changes"><h2>Changes since the previous run</h2><div id="changes-body"></div></section>
</main>
<script type="application/json" id="report-data">DATA_JSON</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("report-data").textContent);
const $ = (id) => document.getElementById(id);
function esc(s) {
  return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g,
    (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c]));
}
const fmt = (x, d) => (x === null || x === undefined) ? "–" : Number(x).toFixed(d === undefined ? 2 : d);
const int = (x) => Number(x).toLocaleString("en-US");
const pct = (x) => (x === null || x === undefined) ? "–" : (100 * x).toFixed(1) + " %";
const cls = (x) => x > 0 ? "pos" : (x < 0 ? "neg" : "");
function tile(k, v) { return `<div class="tile"><div class="v">${v}</div><div class="k">${esc(k)}</div></div>`; }
function table(head, rows, numeric) {
  const th = head.map((h, i) => `<th class="${numeric && numeric[i] ? "num" : ""}">${esc(h)}</th>`).join("");
  const tr = rows.map((r) => "<tr>" + r.map((c, i) => `<td class="${numeric && numeric[i] ? "num" : ""}">${c}</td>`).join("") + "</tr>").join("");
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

// Bars over equal bins [lo, hi]; colour by the bin's sign when signed.
function histogram(id, h, title, signed) {
  const W = 520, H = 200, L = 44, B = 28, T = 18;
  const n = h.counts.length, max = Math.max(1, ...h.counts), bw = (W - L - 8) / n;
  let s = `<svg id="${id}" role="img" aria-label="${esc(title)}" viewBox="0 0 ${W} ${H}" width="100%" style="max-width:${W}px">`;
  s += `<text x="${L}" y="12">${esc(title)}</text>`;
  for (let i = 0; i < n; i++) {
    const v = h.counts[i], bh = (H - B - T) * v / max, x = L + i * bw, mid = h.lo + (i + 0.5) * (h.hi - h.lo) / n;
    const col = signed ? (mid < 0 ? "#c96b66" : "#5a9e7f") : "#6d8fcf";
    s += `<rect class="bar" x="${x + 1}" y="${H - B - bh}" width="${bw - 2}" height="${bh}" fill="${col}"><title>${fmt(h.lo + i * (h.hi - h.lo) / n)}..${fmt(h.lo + (i + 1) * (h.hi - h.lo) / n)}: ${int(v)}</title></rect>`;
  }
  s += `<line x1="${L}" y1="${H - B}" x2="${W - 8}" y2="${H - B}" stroke="#999"/>`;
  s += `<text x="${L}" y="${H - 10}">${fmt(h.lo)}</text><text x="${W - 8}" y="${H - 10}" text-anchor="end">${fmt(h.hi)}</text>`;
  s += `<text x="${L - 4}" y="${T + 4}" text-anchor="end">${int(max)}</text><text x="${L - 4}" y="${H - B}" text-anchor="end">0</text>`;
  return s + "</svg>";
}

// One box (quartiles, whiskers at min and max, mean as a dot) per star rating.
function boxplot(id, rows) {
  const W = 520, H = 220, L = 40, B = 30, T = 16, n = rows.length;
  const y = (v) => T + (H - B - T) * (1 - (v + 1) / 2), bw = Math.min(60, (W - L - 10) / n);
  let s = `<svg id="${id}" role="img" aria-label="Sentiment by star rating" viewBox="0 0 ${W} ${H}" width="100%" style="max-width:${W}px">`;
  for (const v of [-1, -0.5, 0, 0.5, 1]) {
    s += `<line x1="${L}" x2="${W - 6}" y1="${y(v)}" y2="${y(v)}" stroke="${v === 0 ? "#aaa" : "#eee"}"/><text x="${L - 4}" y="${y(v) + 4}" text-anchor="end">${v}</text>`;
  }
  rows.forEach((r, i) => {
    const cx = L + (i + 0.5) * (W - L - 10) / n;
    s += `<g class="box"><title>${r.rating}★: n=${int(r.n)}, mean ${fmt(r.mean)}, median ${fmt(r.median)}, negative ${pct(r.negative_share)}</title>`;
    s += `<line x1="${cx}" x2="${cx}" y1="${y(r.max)}" y2="${y(r.min)}" stroke="#888"/>`;
    s += `<rect x="${cx - bw / 3}" y="${y(r.q3)}" width="${2 * bw / 3}" height="${Math.max(1, y(r.q1) - y(r.q3))}" fill="#cfdcf3" stroke="#6d8fcf"/>`;
    s += `<line x1="${cx - bw / 3}" x2="${cx + bw / 3}" y1="${y(r.median)}" y2="${y(r.median)}" stroke="#2f5fb3" stroke-width="2"/>`;
    s += `<circle cx="${cx}" cy="${y(r.mean)}" r="3" fill="#b3413b"/>`;
    s += `<text x="${cx}" y="${H - 12}" text-anchor="middle">${r.rating}★</text></g>`;
  });
  return s + "</svg>";
}

// Two bars per catalogue decile: share of reviews, share of recommendation slots.
function longtail(id, rows) {
  const W = 520, H = 210, L = 44, B = 30, T = 22, n = rows.length;
  const max = Math.max(0.01, ...rows.map((r) => Math.max(r.reviews_share, r.recommendations_share)));
  const gw = (W - L - 8) / Math.max(1, n), y = (v) => T + (H - B - T) * (1 - v / max);
  let s = `<svg id="${id}" role="img" aria-label="Popularity long tail" viewBox="0 0 ${W} ${H}" width="100%" style="max-width:${W}px">`;
  s += `<rect x="${L}" y="4" width="10" height="10" fill="#9aa7bd"/><text x="${L + 14}" y="13">reviews</text>`;
  s += `<rect x="${L + 80}" y="4" width="10" height="10" fill="#2f5fb3"/><text x="${L + 94}" y="13">recommendations</text>`;
  rows.forEach((r, i) => {
    const x = L + i * gw;
    s += `<rect x="${x + 2}" y="${y(r.reviews_share)}" width="${gw / 2 - 3}" height="${H - B - y(r.reviews_share)}" fill="#9aa7bd"><title>decile ${r.decile}: ${pct(r.reviews_share)} of reviews</title></rect>`;
    s += `<rect x="${x + gw / 2}" y="${y(r.recommendations_share)}" width="${gw / 2 - 3}" height="${H - B - y(r.recommendations_share)}" fill="#2f5fb3"><title>decile ${r.decile}: ${pct(r.recommendations_share)} of recommendations</title></rect>`;
    s += `<text x="${x + gw / 2}" y="${H - 14}" text-anchor="middle">${r.decile}</text>`;
  });
  s += `<text x="${L}" y="${H - 2}">catalogue deciles, most reviewed first</text>`;
  s += `<text x="${L - 4}" y="${T + 4}" text-anchor="end">${pct(max)}</text>`;
  return s + "</svg>";
}

function renderOverview() {
  const o = D.overview, h = D.header || {}, m = D.manifest;
  $("subtitle").textContent = `${D.recommendations_file} · ${h.algorithm || "?"} · top ${h.top_n || "?"} · config ${h.config_hash || "?"}`;
  const langs = Object.entries(o.languages).map(([k, v]) => `${k} ${int(v)}`).join(", ");
  $("overview-tiles").innerHTML = tile("users with lists", int(o.users_with_lists)) + tile("items", int(o.items)) +
    tile("reviews", int(o.reviews)) + tile("reviewers", int(o.reviewers)) +
    tile("rated reviews", int(o.rated_reviews)) + tile("scored reviews", int(o.scored_reviews)) +
    tile("review languages", esc(langs || "–"));
  const facts = [["avrec", D.avrec_version], ["algorithm", h.algorithm], ["config hash", h.config_hash],
    ["sentiment model", h.sentiment_model ? `${h.sentiment_model.name} (${String(h.sentiment_model.sha256).slice(0, 12)})` : (o.sentiment_model || "–")],
    ["embedding model", h.embedding_model ? `${h.embedding_model.name} (${String(h.embedding_model.sha256).slice(0, 12)})` : "–"]];
  if (m) {
    if (m.started_at) facts.push(["run started", m.started_at]);
    if (m.ended_at) facts.push(["run ended", m.ended_at]);
    if (m.exit_code !== undefined) facts.push(["exit code", m.exit_code]);
    if (m.run_id) facts.push(["run id", m.run_id]);
    if (D.manifest_matches === false) facts.push(["run manifest", "of another output: none of its outputs has these recommendations' SHA-256"]);
  } else {
    facts.push(["run manifest", "not found"]);
  }
  $("overview-run").innerHTML = "<h3>Run</h3>" + table(["", ""], facts.map(([k, v]) => [esc(k), `<code>${esc(v === undefined ? "–" : v)}</code>`]));
}

function renderSentiment() {
  const s = D.sentiment;
  if (!s.available) { $("sentiment-body").innerHTML = `<p class="note">No sentiment scores in the inputs.</p>`; return; }
  let h = `<div class="row"><div>${histogram("plot-sentiment", s.histogram, "Review sentiment (-1 negative .. 1 positive)", true)}
    <p class="note">Mean sentiment ${fmt(s.mean, 3)}.</p></div>`;
  if (s.by_rating.length) {
    h += `<div>${boxplot("plot-by-rating", s.by_rating)}<p class="note">Boxes: quartiles; whiskers: min and max; red dot: mean.</p></div>`;
  }
  h += "</div>";
  if (s.by_rating.length) {
    h += "<h3>Sentiment by star rating</h3>" + table(["stars", "reviews", "mean", "median", "called negative"],
      s.by_rating.map((r) => [esc(r.rating + "★"), int(r.n), `<span class="${cls(r.mean)}">${fmt(r.mean, 3)}</span>`, fmt(r.median, 3), pct(r.negative_share)]),
      [false, true, true, true, true]);
  }
  const items = (rows) => table(["item", "reviews", "mean", "what a reviewer wrote"],
    rows.map((r) => [`${esc(r.title)} <span class="note">${esc(r.item_id)}</span>`, int(r.reviews), `<span class="${cls(r.mean)}">${fmt(r.mean, 3)}</span>`, esc(r.text)]),
    [false, true, true, false]);
  h += `<div class="row"><div><h3>Most positive items</h3>${items(s.most_positive_items)}</div><div><h3>Most negative items</h3>${items(s.most_negative_items)}</div></div>`;
  if (s.disagreements.length) {
    h += "<h3>Where the model and the stars disagree most</h3><p class=\"note\">Candidates for model errors, sarcasm or mixed reviews.</p>" +
      table(["user", "item", "stars", "sentiment", "review"], s.disagreements.map((r) =>
        [esc(r.user_id), esc(r.title), esc(r.rating + "★"), `<span class="${cls(r.sentiment)}">${fmt(r.sentiment, 3)}</span>`, esc(r.text)]),
        [false, false, true, true, false]);
  }
  $("sentiment-body").innerHTML = h;
}

function renderRecommendations() {
  const r = D.recommendations, c = r.coverage;
  let h = `<div class="tiles">${tile("users", int(r.users))}${tile("cold-start share", pct(r.users ? r.cold_start / r.users : 0))}
    ${tile("catalogue coverage", pct(c.catalogue ? c.recommended_items / c.catalogue : 0))}
    ${tile("items recommended", int(c.recommended_items) + " / " + int(c.catalogue))}
    ${tile("diversity (ILD)", fmt(r.diversity, 3))}${tile("low-confidence lists", int(r.low_confidence))}</div>`;
  if (r.low_confidence > 0) {
    h += `<div class="warn" id="low-confidence">${int(r.low_confidence)} list(s) are of low confidence: every score at or below zero, or a profile whose dislikes nearly cancel its likes (the reason is shown with each user's list). For example: ${r.low_confidence_examples.map(esc).join(", ")}.</div>`;
  }
  h += `<div class="row"><div>${longtail("plot-longtail", r.long_tail)}</div>`;
  if (r.score_histogram) h += `<div>${histogram("plot-scores", r.score_histogram, "Scores of recommended items", false)}</div>`;
  h += "</div>";
  h += `<p class="note">Diversity: mean pairwise (1 − cosine) of the items' numeric features (z-scored over the catalogue) within a list, over ${int(r.diversity_lists)} lists.</p>`;
  h += "<h3>Most recommended items</h3>" + table(["item", "in lists", "reviews"],
    r.most_recommended.map((x) => [`${esc(x.title)} <span class="note">${esc(x.item_id)}</span>`, int(x.lists), int(x.reviews)]), [false, true, true]);
  $("recs-body").innerHTML = h;
}

function renderUser(u) {
  let h = `<h3>${esc(u.id)}</h3><p class="note">${u.cold_start ? "cold start · " : ""}${int(u.history)} reviews of catalogue items · explanations in ${esc(u.language || "en")}</p>`;
  if (u.low_confidence) h += `<div class="warn">Low confidence: ${esc(u.low_confidence)}</div>`;
  h += `<div class="row"><div><h3>Recommendations</h3>` + table(["#", "item", "score", "why"], u.recommendations.map((x, i) =>
    [String(i + 1), esc(x.title), `<span class="${cls(x.score)}">${fmt(x.score, 3)}</span>`,
     `<span class="expl">${esc(x.explanation)}</span>${x.because ? `<div class="because">from: ${esc(x.because)}</div>` : ""}`]), [true, false, true, false]);
  h += `</div><div><h3>Their reviews (latest ${u.reviews.length} of ${int(u.reviews_total)})</h3>` + table(["item", "stars", "sentiment", "review"], u.reviews.map((r) =>
    [`${esc(r.title)}<div class="note">${esc(r.date)}</div>`, r.rating === null ? "–" : esc(r.rating + "★"),
     r.sentiment === null ? "–" : `<span class="${cls(r.sentiment)}">${fmt(r.sentiment, 3)}</span>`, esc(r.text)]), [false, true, true, false]);
  return h + "</div></div>";
}

function renderUsers() {
  const s = D.users_sampling;
  $("users-note").textContent = `${int(s.shown)} of ${int(s.total)} users: ${s.how}.`;
  let selected = null;
  const show = (id) => {
    selected = id;
    const u = D.users.find((x) => x.id === id);
    $("user-detail").innerHTML = u ? renderUser(u) : "";
    for (const b of $("user-list").querySelectorAll("button")) b.classList.toggle("sel", b.dataset.user === id);
  };
  const list = () => {
    const q = $("user-search").value.trim().toLowerCase();
    const hits = D.users.filter((u) => u.id.toLowerCase().includes(q));
    $("user-list").innerHTML = hits.slice(0, 60).map((u) => `<button type="button" data-user="${esc(u.id)}">${esc(u.id)}</button>`).join("") +
      (hits.length > 60 ? `<span class="note">… ${int(hits.length - 60)} more: refine the search</span>` : "") +
      (hits.length === 0 ? `<span class="note">No user matches${D.users.length < s.total ? " in this sample" : ""}.</span>` : "");
    if (hits.length && !hits.some((u) => u.id === selected)) show(hits[0].id); else show(selected);
  };
  $("user-list").addEventListener("click", (e) => { const b = e.target.closest("button"); if (b) show(b.dataset.user); });
  $("user-search").addEventListener("input", list);
  list();
}

function renderChanges() {
  const d = D.diff;
  if (!d) { $("changes").style.display = "none"; $("nav-changes").style.display = "none"; return; }
  const s = d.summary;
  let h = `<p class="note">Against ${esc(D.previous_file)}, top ${s.k}.</p><div class="tiles">` +
    tile("users changed", int(s.users_changed) + " / " + int(s.users_common)) + tile("users added", int(s.users_added)) +
    tile("users removed", int(s.users_removed)) + tile("mean overlap", fmt(s.mean_overlap, 3)) + tile("mean RBO", fmt(s.mean_rbo, 3)) +
    tile("churn", fmt(s.churn, 3)) + tile("coverage", int(s.coverage_old) + " → " + int(s.coverage_new)) +
    tile("popularity drift", pct(s.popularity_drift)) + "</div>";
  const items = (rows, title) => rows.length ? `<div><h3>${title}</h3>` + table(["item", "lists (change)"],
    rows.map((x) => [esc(x.item_id), (x.lists > 0 ? "+" : "") + int(x.lists)]), [false, true]) + "</div>" : "";
  h += `<div class="row">${items(d.items_entering_most_lists, "Entered most lists")}${items(d.items_leaving_most_lists, "Left most lists")}</div>`;
  if (d.users_moved_most.length) {
    h += "<h3>Users whose lists moved most</h3>" + table(["user", "overlap", "RBO"],
      d.users_moved_most.map((u) => [esc(u.user_id), fmt(u.overlap, 3), fmt(u.rbo, 3)]), [false, true, true]);
  }
  $("changes-body").innerHTML = h;
}

renderOverview();
renderSentiment();
renderRecommendations();
renderUsers();
renderChanges();
</script>
</body>
</html>
)html";

}  // namespace

std::string RenderReport(const ReportInputs& in, const ReportOptions& options) {
  std::string data = ReportData(in, options).dump();
  // Inside <script>, "</script" would close the element, and "<!--" followed
  // by "<script" would make the parser skip the real "</script>" (the script
  // data double-escaped state of HTML), so no '<' reaches the page as is:
  // each is written as the JSON escape \u003c (the same string to JSON.parse;
  // '<' occurs only inside JSON strings).
  std::string safe;
  safe.reserve(data.size());
  for (const char c : data) {
    if (c == '<') {
      safe += "\\u003c";
    } else {
      safe += c;
    }
  }
  std::string page = kPage;
  const std::string marker = "DATA_JSON";
  page.replace(page.find(marker), marker.size(), safe);
  return page;
}

}  // namespace avrec
