// app.js: eddy's dashboard. Polls the JSON API every second (/api/series
// incrementally with since=, /api/alerts, /api/pipelines; /api/models every
// 5 s) and draws with uPlot. window.eddyDash exposes what is on screen
// (points plotted, marks drawn) for the browser test.
"use strict";

const COLORS = ["#2f6fde", "#18a058", "#d9480f", "#7a3fb0", "#0b8a8a", "#b8860b", "#c2255c", "#495057"];
const KEEP_SECONDS = 900;
const state = {
  pipeline: null, pipelines: [], since: 0,
  parts: new Map(),   // partition -> {t:[], records:[], ...}
  alerts: [], models: [], charts: {}, selected: null, focus: null, lastModels: 0,
};
window.eddyDash = { points: 0, marks: { drift: 0, warning: 0 }, alertsShown: 0, updates: 0, pipeline: null,
  labels: null };

const $ = (id) => document.getElementById(id);
const fmt = (v, d = 3) => (v === null || v === undefined || Number.isNaN(v) ? "–" : Number(v).toFixed(d));
const fmtInt = (v) => (v === null || v === undefined ? "–" : Number(v).toLocaleString("en"));

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok) throw new Error(url + ": " + r.status);
  return r.json();
}

// ---------------------------------------------------------------- charts

// Vertical lines at every alert of the pipeline on the accuracy chart,
// with the action taken; the alert picked in the table is drawn thicker.
function marksPlugin() {
  return {
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
        const xs = u.data[0];
        const marks = { drift: 0, warning: 0 };
        if (!xs.length) { window.eddyDash.marks = marks; return; }
        const lo = xs[0] - 1, hi = xs[xs.length - 1] + 2;
        ctx.save();
        let labelled = 0;
        for (const a of state.alerts) {
          const t = Date.parse(a.time) / 1000;
          if (t < lo || t > hi) continue;
          const warn = a.kind === "warning";
          marks[warn ? "warning" : "drift"]++;
          let x = Math.round(u.valToPos(Math.min(Math.max(t, u.scales.x.min), u.scales.x.max), "x", true));
          const sel = state.selected === a;
          ctx.strokeStyle = warn ? "#d98a00" : a.kind === "data_drift" ? "#7a3fb0" : "#c0352b";
          ctx.lineWidth = (sel ? 3 : 1) * devicePixelRatio;
          ctx.setLineDash(warn ? [4 * devicePixelRatio, 4 * devicePixelRatio] : []);
          ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
          if (!warn && a.action !== "none") {
            ctx.fillStyle = ctx.strokeStyle;
            ctx.font = `${11 * devicePixelRatio}px system-ui`;
            const y = top + (12 + 13 * (labelled++ % 4)) * devicePixelRatio; // staggered: drifts come close together
            ctx.fillText(`${a.action} p${a.partition} v${a.version_after}`, x + 3 * devicePixelRatio, y);
          }
        }
        ctx.restore();
        window.eddyDash.marks = marks;
      }],
    },
  };
}

function makeChart(id, seriesLabels, opts = {}) {
  const el = $(id);
  const width = Math.max(300, el.clientWidth || 420);
  const series = [{}].concat(seriesLabels.map((label, i) => ({
    label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false,
    value: (u, v) => (v === null ? "–" : opts.digits !== undefined ? v.toFixed(opts.digits) : v),
  })));
  const chart = new uPlot({
    width, height: opts.height || 170, series,
    scales: { x: { time: true }, y: opts.y || { auto: true } },
    // whole seconds at least: the points are a second apart
    axes: [{ incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600], space: 60,
             values: (u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString("en-GB")) }, { size: 60 }],
    plugins: opts.plugins || [],
    cursor: { drag: { x: true, y: false } },
  }, [[]].concat(seriesLabels.map(() => [])), el);
  return chart;
}

function rebuildCharts(parts) {
  for (const c of Object.values(state.charts)) c.destroy();
  state.charts = {};
  const labels = parts.map((p) => "partition " + p);
  const pl = state.pipelines.find((p) => p.name === state.pipeline);
  const mae = pl && pl.metric === "mae";
  $("metric-title").textContent = (mae ? "windowed MAE" : "windowed accuracy") + ", with warnings and drifts (and the action taken)";
  state.charts.metric = makeChart("c-metric", labels, { height: 260, digits: 3, plugins: [marksPlugin()],
    y: mae ? { auto: true } : { range: [0, 1] } });
  state.charts.records = makeChart("c-records", labels, { digits: 0 });
  state.charts.predictions = makeChart("c-predictions", labels, { digits: 0 });
  state.charts.dead = makeChart("c-dead", labels, { digits: 0 });
  state.charts.learned = makeChart("c-learned", labels, { digits: 0 });
  state.charts.lag = makeChart("c-lag", labels, { digits: 0 });
  state.charts.latency = makeChart("c-latency", ["p50", "p99"], { digits: 4 });
  state.charts.version = makeChart("c-version", labels, { digits: 0 });
  state.charts.waiting = makeChart("c-waiting", labels, { digits: 0 });
}

// The partitions' points merged on one time axis (null where a partition
// has no point: not assigned then).
function columns() {
  const parts = [...state.parts.keys()].sort((a, b) => a - b);
  const times = new Set();
  for (const s of state.parts.values()) for (const t of s.t) times.add(t);
  const xs = [...times].sort((a, b) => a - b);
  const index = new Map(xs.map((t, i) => [t, i]));
  const col = (key) => parts.map((p) => {
    const s = state.parts.get(p), out = new Array(xs.length).fill(null);
    s.t.forEach((t, i) => { out[index.get(t)] = s[key][i]; });
    return out;
  });
  // Latency is the pipeline's: the first partition that has it, per second.
  const lat = (key) => {
    const out = new Array(xs.length).fill(null);
    for (const s of state.parts.values()) s.t.forEach((t, i) => { if (out[index.get(t)] === null) out[index.get(t)] = s[key][i]; });
    return out;
  };
  return { parts, xs, col, lat };
}

function draw() {
  const { parts, xs, col, lat } = columns();
  const key = parts.join(",");
  if (state.chartKey !== key) { state.chartKey = key; rebuildCharts(parts); }
  const set = (name, data) => state.charts[name].setData([xs].concat(data), state.focus === null);
  set("metric", col("metric"));
  set("records", col("records"));
  set("predictions", col("predictions"));
  set("dead", col("dead_letters"));
  set("learned", col("learned"));
  set("lag", col("lag"));
  set("latency", [lat("p50"), lat("p99")]);
  set("version", col("version"));
  set("waiting", col("waiting"));
  if (state.focus !== null && xs.length) { // the alert in the middle of a sixth of the curve (at most 2 minutes)
    const half = Math.max(3, Math.min(60, (xs[xs.length - 1] - xs[0]) / 6));
    state.charts.metric.setScale("x", { min: state.focus - half, max: state.focus + half });
  }
  const xs0 = state.charts.metric.scales.x;
  window.eddyDash.view = { focus: state.focus, min: xs0.min, max: xs0.max };
  window.eddyDash.points = xs.length;
}

// ---------------------------------------------------------------- tables

function fillSelect(sel, values) {
  const keep = sel.value;
  const have = [...sel.options].map((o) => o.value);
  for (const v of values) if (!have.includes(String(v))) sel.add(new Option(String(v), String(v)));
  sel.value = keep;
}

function drawAlerts() {
  const fp = $("f-partition").value, fd = $("f-detector").value, fk = $("f-kind").value;
  fillSelect($("f-partition"), [...new Set(state.alerts.map((a) => a.partition))].sort((a, b) => a - b));
  fillSelect($("f-detector"), [...new Set(state.alerts.map((a) => a.detector))].sort());
  fillSelect($("f-kind"), [...new Set(state.alerts.map((a) => a.kind))].sort());
  const rows = state.alerts.filter((a) => (fp === "" || String(a.partition) === fp) &&
    (fd === "" || a.detector === fd) && (fk === "" || a.kind === fk)).slice().reverse(); // newest first
  const tb = $("alerts").tBodies[0];
  tb.textContent = "";
  for (const a of rows) {
    const tr = tb.insertRow();
    tr.className = (a.kind === "warning" ? "warning" : "drift") + (state.selected === a ? " selected" : "");
    const cells = [a.time.replace("T", " ").replace("Z", ""), a.kind, a.partition, a.offset, a.index, a.detector,
      fmt(a.statistic, 4), fmt(a.threshold, 4), a.action, a.action === "none" ? "v" + a.version_before :
        `v${a.version_before} → v${a.version_after}`];
    cells.forEach((c, i) => {
      const td = tr.insertCell();
      if (i === 0) {
        const link = document.createElement("a");
        link.href = "#c-metric"; link.className = "row-link"; link.textContent = c;
        link.title = "show this alert on the curve";
        link.onclick = (ev) => { ev.preventDefault(); focusAlert(a); };
        td.appendChild(link);
      } else td.textContent = c;
    });
  }
  $("alerts-count").textContent = `${rows.length} shown of ${state.alerts.length}`;
  window.eddyDash.alertsShown = rows.length;
}

function focusAlert(a) {
  state.selected = a;
  state.focus = Date.parse(a.time) / 1000;
  $("c-metric").scrollIntoView({ behavior: "smooth", block: "center" });
  draw();
  drawAlerts();
}

function drawModels() {
  const tb = $("models").tBodies[0];
  tb.textContent = "";
  for (const m of state.models.slice().sort((a, b) => a.partition - b.partition)) {
    const tr = tb.insertRow();
    [m.partition + (m.assigned ? "" : " (gone)"), m.learner, "v" + m.version, fmtInt(m.seen), fmtInt(m.learned),
      fmtInt(m.next_offset), fmtInt(m.bytes), fmtInt(m.memory), m.sha256,
      !m.importance ? "– (not ranked by this learner)" : !m.importance.some((f) => f.importance > 0) ? "no split yet"
        : m.importance.map((f) => `${f.name} ${fmt(f.importance)}`).join(", ")]
      .forEach((c, i) => { const td = tr.insertCell(); td.textContent = c; if (i === 8) td.className = "sha"; });
  }
}

function drawSummary(pl) {
  const cards = [];
  const esc = (v) => String(v).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const card = (k, v) => cards.push(`<div class="card"><span class="muted">${esc(k)}</span><b>${esc(v)}</b></div>`);
  const last = (key) => {
    let sum = 0, any = false;
    for (const s of state.parts.values()) if (s[key].length) { sum += s[key][s[key].length - 1] || 0; any = true; }
    return any ? sum : null;
  };
  card("state", pl.state);
  card("learner", pl.learner);
  card("drift", `${pl.detector} → ${pl.action}`);
  card("store", pl.store);
  card("records", fmtInt(pl.records_in));
  card("records/s", fmtInt(last("records")));
  card("predictions/s", fmtInt(last("predictions")));
  card("dead letters", fmtInt(pl.dead_lettered));
  card("alerts", fmtInt(pl.alerts));
  card("latency p50 / p99", `${fmt(pl.latency_p50 * 1000, 1)} / ${fmt(pl.latency_p99 * 1000, 1)} ms`);
  const versions = [...state.parts.entries()].map(([p, s]) => `p${p} v${s.version.length ? s.version[s.version.length - 1] : "?"}`);
  card("model versions", versions.join(" ") || "–");
  $("summary").innerHTML = cards.join("");
}

// The label join ([source] label_topic): shown only for a pipeline that has one.
function drawLabels(pl) {
  const l = pl.labels;
  $("labels").hidden = !l;
  if (!l) { window.eddyDash.labels = null; return; }
  $("labels-topic").textContent = `from ${l.topic}, joined by id`;
  const ms = (v) => (v === null ? "–" : v < 1 ? fmt(v * 1000, 1) + " ms" : fmt(v, 2) + " s");
  const rows = [["waiting", "waiting now", fmtInt(l.waiting)], ["joined", "joined (learned)", fmtInt(l.joined)],
    ["unmatched", "unmatched (dead-lettered)", fmtInt(l.unmatched)], ["expired", "expired (past label_ttl)", fmtInt(l.expired)],
    ["evicted", "evicted (store full)", fmtInt(l.evicted)], ["in", "label records in", fmtInt(l.in)],
    ["delay", "label delay p50 / p99", `${ms(l.delay_p50)} / ${ms(l.delay_p99)}`], ["mean", "label delay mean", ms(l.delay_mean)]];
  const esc = (v) => String(v).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  $("labels-cards").innerHTML = rows.map(([k, name, v]) =>
    `<div class="card" data-k="${k}"><span class="muted">${esc(name)}</span><b>${esc(v)}</b></div>`).join("");
  window.eddyDash.labels = { waiting: l.waiting, joined: l.joined, unmatched: l.unmatched, expired: l.expired };
}

// --------------------------------------------------------------- polling

function selectPipeline(name) {
  state.pipeline = name;
  state.since = 0;
  state.parts = new Map();
  state.alerts = [];
  state.selected = null;
  state.focus = null;
  state.chartKey = null;
  state.lastModels = 0;
  window.eddyDash.pipeline = name;
}

async function poll() {
  try {
    const pls = await getJSON("/api/pipelines");
    state.pipelines = pls.pipelines;
    const sel = $("pipeline");
    fillSelect(sel, pls.pipelines.map((p) => p.name));
    if (!state.pipeline && pls.pipelines.length) { selectPipeline(pls.pipelines[0].name); sel.value = state.pipeline; }
    const pl = pls.pipelines.find((p) => p.name === state.pipeline);
    if (pl) {
      const q = encodeURIComponent(state.pipeline);
      // Alerts since the newest held (its time is cut to the millisecond:
      // it comes again, and is known by its text).
      const newest = state.alerts.length ? Date.parse(state.alerts[state.alerts.length - 1].time) / 1000 : 0;
      const [series, alerts] = await Promise.all([
        getJSON(`/api/series?pipeline=${q}&since=${state.since}`),
        getJSON(`/api/alerts?pipeline=${q}` + (newest ? `&since=${newest}` : ""))]);
      for (const p of series.partitions) {
        let s = state.parts.get(p.partition);
        if (!s) { s = {}; for (const k of Object.keys(p)) if (Array.isArray(p[k])) s[k] = []; state.parts.set(p.partition, s); }
        for (const k of Object.keys(s)) s[k].push(...p[k]);
        for (const t of p.t) state.since = Math.max(state.since, t);
        const drop = s.t.findIndex((t) => t > state.since - KEEP_SECONDS);
        if (drop > 0) for (const k of Object.keys(s)) s[k].splice(0, drop);
      }
      const known = new Set(state.alerts.map((a) => JSON.stringify(a)));
      for (const a of alerts) if (!known.has(JSON.stringify(a))) state.alerts.push(a);
      if (state.alerts.length > 4096) state.alerts.splice(0, state.alerts.length - 4096); // as the server keeps
      // Every 5 s (every second until the engine has taken its first snapshot).
      if (Date.now() - state.lastModels > 5000 || !state.models.length) {
        state.models = (await getJSON(`/api/models?pipeline=${q}`)).models;
        state.lastModels = Date.now();
        drawModels();
      }
      drawLabels(pl);
      draw();
      drawAlerts();
      drawSummary(pl);
    }
    $("status").textContent = pl ? pl.state : "no pipeline";
    $("status").className = "status " + (pl && pl.state !== "closed" ? "ok" : "bad");
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    window.eddyDash.updates++;
  } catch (e) {
    $("status").textContent = "unreachable (" + e.message + ")";
    $("status").className = "status bad";
  }
  setTimeout(poll, 1000);
}

$("pipeline").onchange = (ev) => { selectPipeline(ev.target.value); };
for (const id of ["f-partition", "f-detector", "f-kind"]) $(id).onchange = drawAlerts;
$("c-metric").ondblclick = () => { state.focus = null; state.selected = null; draw(); drawAlerts(); };
poll();
