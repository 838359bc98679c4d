// The analytics dashboard: fetches /dashboard/api/summary with the admin token and draws inline SVG
// charts. No libraries, no CDN: everything is in this file.
"use strict";

const COLORS = ["#2a6fdb", "#e8833a", "#3aa76d", "#c2423f", "#8e6bbf", "#6b7a8f"];
const SVG = "http://www.w3.org/2000/svg";

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function pct(value) { return value === null ? "–" : (value * 100).toFixed(1) + "%"; }

// A line chart of several series over the days; values may be null (no data that day).
function lineChart(target, labels, series, format) {
  const width = 760, height = 220, left = 48, bottom = 24, top = 12;
  const values = series.flatMap((s) => s.values).filter((v) => v !== null);
  const max = Math.max(1e-9, ...values);
  const x = (i) => left + (labels.length < 2 ? 0 : (i * (width - left - 8)) / (labels.length - 1));
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    svg.append(el("line", { x1: left, x2: width, y1: y(v), y2: y(v), stroke: "#eee" }));
    svg.append(el("text", { x: left - 4, y: y(v) + 4, "text-anchor": "end" }, format(v)));
  }
  labels.forEach((label, i) => {
    if (labels.length <= 14 || i % Math.ceil(labels.length / 14) === 0) {
      svg.append(el("text", { x: x(i), y: height - 6, "text-anchor": "middle" }, label.slice(5)));
    }
  });
  series.forEach((s, n) => {
    const points = s.values.map((v, i) => (v === null ? null : `${x(i)},${y(v)}`)).filter(Boolean);
    svg.append(el("polyline", { points: points.join(" "), fill: "none", stroke: COLORS[n], "stroke-width": 2 }));
    s.values.forEach((v, i) => {
      if (v !== null) {
        const dot = el("circle", { cx: x(i), cy: y(v), r: 3, fill: COLORS[n] });
        dot.append(el("title", {}, `${s.name} ${labels[i]}: ${format(v)}`));
        svg.append(dot);
      }
    });
    svg.append(el("text", { x: left + 8 + n * 130, y: top + 4, fill: COLORS[n] }, "● " + s.name));
  });
  target.replaceChildren(svg);
}

// Horizontal bars, one per item.
function barChart(target, items) {
  const width = 420, row = 22, left = 140;
  const max = Math.max(1, ...items.map((item) => item.count));
  const svg = el("svg", { viewBox: `0 0 ${width} ${Math.max(row, items.length * row)}`, role: "img" });
  items.forEach((item, i) => {
    const w = ((width - left - 50) * item.count) / max;
    svg.append(el("text", { x: left - 6, y: i * row + 15, "text-anchor": "end" }, item.label));
    svg.append(el("rect", { x: left, y: i * row + 4, width: Math.max(1, w), height: row - 8, fill: COLORS[0] }));
    svg.append(el("text", { x: left + w + 6, y: i * row + 15 }, String(item.count)));
  });
  target.replaceChildren(svg);
}

function render(data) {
  const total = data.total;
  const cards = [
    ["提问 Questions", total.questions],
    ["FAQ 命中率 hit rate", pct(total.faq_hit_rate)],
    ["兜底率 Fallback", pct(total.fallback_rate)],
    ["转人工率 Handoff", pct(total.handoff_rate)],
    ["延迟 p50 / p90 / p99", ["p50", "p90", "p99"].map((k) => total.latency_ms[k] ?? "–").join(" / ") + " ms"],
  ];
  document.getElementById("cards").replaceChildren(
    ...cards.map(([label, value]) => {
      const card = document.createElement("div");
      card.className = "card";
      const b = document.createElement("b");
      b.textContent = value;
      card.append(b, label);
      return card;
    }),
  );
  const days = data.per_day.map((d) => d.day);
  lineChart(document.getElementById("chart-questions"), days,
    [{ name: "questions", values: data.per_day.map((d) => d.questions) }], (v) => Math.round(v));
  lineChart(document.getElementById("chart-rates"), days, [
    { name: "FAQ hit", values: data.per_day.map((d) => d.faq_hit_rate) },
    { name: "fallback", values: data.per_day.map((d) => d.fallback_rate) },
    { name: "handoff", values: data.per_day.map((d) => d.handoff_rate) },
  ], (v) => (v * 100).toFixed(0) + "%");
  lineChart(document.getElementById("chart-latency"), days, ["p50", "p90", "p99"].map((k) => (
    { name: k, values: data.per_day.map((d) => d.latency_ms[k]) })), (v) => Math.round(v));
  document.getElementById("top").replaceChildren(...data.top_questions.map((q) => {
    const li = document.createElement("li");
    const count = document.createElement("span");
    count.textContent = "×" + q.count;
    li.append(q.question, count);
    return li;
  }));
  barChart(document.getElementById("chart-intents"), data.intents.map((i) => ({ label: i.intent, count: i.count })));
  document.getElementById("product-questions").textContent = String(data.product_questions ?? 0);
  barChart(document.getElementById("chart-products"), (data.products || []).map((p) => ({ label: p.sku, count: p.count })));
}

async function load(event) {
  if (event) event.preventDefault();
  const token = document.getElementById("token").value.trim();
  const status = document.getElementById("status");
  if (!token) { status.textContent = "请输入管理令牌 Enter the admin token."; return; }
  sessionStorage.setItem("kefu-dashboard-token", token);
  const days = document.getElementById("days").value;
  const reply = await fetch(`api/summary?days=${days}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!reply.ok) {
    status.textContent = reply.status === 401 ? "令牌无效 Invalid token." : `错误 Error ${reply.status}`;
    document.getElementById("board").hidden = true;
    return;
  }
  status.textContent = "";
  render(await reply.json());
  document.getElementById("board").hidden = false;
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("controls").addEventListener("submit", load);
  const saved = sessionStorage.getItem("kefu-dashboard-token");
  if (saved) { document.getElementById("token").value = saved; load(); }
});
