// nChat Jobs dashboard: live updates and charts. Plain JavaScript, no build, no third-party code.
// One EventSource per tab (/events): "stats" messages refresh counts and charts, "jobs" messages move
// progress bars and trigger a re-render of the table or job details the server owns. No polling loop.
"use strict";
(function () {
  const body = document.body;
  const page = body.dataset.page;
  const queue = body.dataset.queue || "";
  const job = body.dataset.job || "";
  const SVG = "http://www.w3.org/2000/svg";
  const dataEl = document.getElementById("chart-data");
  const charts = dataEl ? JSON.parse(dataEl.textContent) : null;

  // ---- charts ------------------------------------------------------------------------------------
  function node(name, attrs, parent) {
    const n = document.createElementNS(SVG, name);
    for (const k in attrs) n.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(n);
    return n;
  }

  function niceMax(v) {
    if (v <= 5) return 5;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return v;
  }

  function hhmm(minute) {
    const d = new Date(minute * 60000);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  // Stacked bars: completed (green) below failed (red); one bar per point of the series.
  function drawBars(svg, s, axis) {
    const w = svg.clientWidth || 600, h = svg.clientHeight || 180;
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const pad = axis ? { l: 38, r: 6, t: 8, b: 18 } : { l: 0, r: 0, t: 1, b: 1 };
    const n = s.completed.length;
    let max = 0;
    for (let i = 0; i < n; i++) max = Math.max(max, s.completed[i] + s.failed[i]);
    max = axis ? niceMax(max) : Math.max(max, 1);
    const ih = h - pad.t - pad.b, bw = (w - pad.l - pad.r) / n, base = pad.t + ih;
    if (axis) {
      for (const f of [0, 0.5, 1]) {
        const y = base - f * ih;
        node("line", { x1: pad.l, x2: w - pad.r, y1: y, y2: y, class: "axis" }, svg);
        node("text", { x: pad.l - 5, y: y + 3, "text-anchor": "end" }, svg).textContent = Math.round(f * max);
      }
      for (const i of [0, Math.floor(n / 2), n - 1]) {
        const anchor = i === 0 ? "start" : i === n - 1 ? "end" : "middle";
        const x = i === 0 ? pad.l : i === n - 1 ? w - pad.r : pad.l + i * bw + bw / 2;
        const t = node("text", { x: x, y: h - 4, "text-anchor": anchor }, svg);
        t.textContent = hhmm(s.start + i * s.step + s.step - 1);  // a bin is labelled by its last minute
      }
    }
    for (let i = 0; i < n; i++) {
      const c = s.completed[i], f = s.failed[i];
      if (!c && !f) continue;
      const hc = (c / max) * ih, hf = (f / max) * ih, x = pad.l + i * bw + (bw > 3 ? 0.5 : 0);
      const width = Math.max(bw - (bw > 3 ? 1 : 0), 0.6);
      const g = node("g", {}, svg);
      node("title", {}, g).textContent = hhmm(s.start + i * s.step) + " · " + c + " completed, " + f + " failed";
      if (c) node("rect", { x: x, y: base - hc, width: width, height: hc, class: "ok" }, g);
      if (f) node("rect", { x: x, y: base - hc - hf, width: width, height: hf, class: "bad" }, g);
    }
  }

  // Moves a series forward so that `minute` falls into its last point; returns that point's index.
  function advance(s, minute) {
    const slot = Math.floor((minute - s.start) / s.step);
    const n = s.completed.length;
    const shift = slot - (n - 1);
    if (shift > 0) {
      for (let i = 0; i < shift; i++) { s.completed.push(0); s.failed.push(0); }
      s.completed.splice(0, shift); s.failed.splice(0, shift);
      s.start += shift * s.step;
    }
    return Math.min(slot, n - 1);
  }

  const lastMinute = {};  // queue -> {minute, completed, failed} already counted in the day chart

  function drawAll() {
    if (!charts) return;
    const hour = document.getElementById("chart-hour");
    const day = document.getElementById("chart-day");
    if (hour && charts.hour) drawBars(hour, charts.hour, true);
    if (day && charts.day) drawBars(day, charts.day, true);
    document.querySelectorAll("svg[data-spark]").forEach(function (svg) {
      const s = charts.queues && charts.queues[svg.dataset.spark];
      if (s) drawBars(svg, s, false);
    });
  }

  function seedLastMinute() {
    if (!charts || !charts.queues) return;
    for (const q in charts.queues) {
      const s = charts.queues[q], i = s.completed.length - 1;
      lastMinute[q] = { minute: s.start + i, completed: s.completed[i], failed: s.failed[i] };
    }
  }

  function chartMinute(minute) {
    if (!charts) return;
    const mine = queue ? [queue] : Object.keys(minute);
    let c = 0, f = 0, m = 0;
    for (const q of mine) {
      const v = minute[q];
      if (!v) continue;
      c += v.completed; f += v.failed; m = v.minute;
      if (charts.queues && charts.queues[q]) {
        const s = charts.queues[q], i = advance(s, v.minute);
        s.completed[i] = v.completed; s.failed[i] = v.failed;
      }
      if (charts.day) {
        const prev = lastMinute[q];
        const same = prev && prev.minute === v.minute;
        const i = advance(charts.day, v.minute);
        charts.day.completed[i] += v.completed - (same ? prev.completed : 0);
        charts.day.failed[i] += v.failed - (same ? prev.failed : 0);
      }
      lastMinute[q] = { minute: v.minute, completed: v.completed, failed: v.failed };
    }
    if (charts.hour && m) {
      const i = advance(charts.hour, m);
      charts.hour.completed[i] = c; charts.hour.failed[i] = f;
    }
    drawAll();
  }

  // ---- live counts -------------------------------------------------------------------------------
  function fmt(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, " "); }

  function setText(sel, text) {
    document.querySelectorAll(sel).forEach(function (e) { if (e.textContent !== text) e.textContent = text; });
  }

  function onStats(msg) {
    const totals = { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0, rate: 0 };
    for (const q of msg.queues) {
      for (const s in q.counts) {
        setText('[data-count="' + q.name + ":" + s + '"]', fmt(q.counts[s]));
        if (s in totals) totals[s] += q.counts[s];
      }
      totals.rate += q.processingRate;
      setText('[data-rate="' + q.name + '"]', String(q.processingRate));
      document.querySelectorAll('[data-paused="' + q.name + '"]').forEach(function (b) {
        const state = q.isPaused ? "paused" : "running";
        if (b.textContent !== state) { b.textContent = state; b.className = "badge " + state; }
      });
      document.querySelectorAll('form[data-pause-form="' + q.name + '"]').forEach(function (f) {
        // Someone else paused or resumed: offer the opposite action without a reload.
        const verb = q.isPaused ? "resume" : "pause", button = f.querySelector("button");
        if (button.id === verb) return;
        f.action = "/queues/" + encodeURIComponent(q.name) + "/" + verb;
        button.id = verb; button.textContent = q.isPaused ? "Resume" : "Pause";
        button.className = q.isPaused ? "primary" : "";
      });
    }
    totals.rate = Math.round(totals.rate * 10) / 10;
    for (const k in totals) setText('[data-total="' + k + '"]', fmt(totals[k]));
    setText("[data-workers]", String(msg.workers));
    chartMinute(msg.minute);
  }

  // ---- live rows and job details -----------------------------------------------------------------
  let inFlight = false, again = false;

  function refresh() {
    const box = document.getElementById(page === "job" ? "job-live" : "rows-box");
    const url = box && (box.dataset.rows || box.dataset.live);
    if (!url) return;
    if (inFlight) { again = true; return; }
    inFlight = true;
    const before = new Set(Array.from(box.querySelectorAll("[data-job-row]")).map(function (r) { return r.dataset.jobRow; }));
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        box.innerHTML = html;
        box.querySelectorAll("[data-job-row]").forEach(function (r) {
          if (before.size && !before.has(r.dataset.jobRow)) r.classList.add("flash-row");
        });
      })
      .catch(function () { /* the next event tries again */ })
      .finally(function () {
        inFlight = false;
        if (again) { again = false; setTimeout(refresh, 300); }
      });
  }

  function onJobs(events) {
    let changed = false;
    const tab = (document.getElementById("rows-box") || {}).dataset;
    for (const e of events) {
      if (e.progress !== undefined && e.progress !== "") {
        document.querySelectorAll('[data-progress="' + e.job + '"]').forEach(function (p) { p.value = Number(e.progress); });
        setText('[data-progress-text="' + e.job + '"]', e.progress + "%");
      }
      if (e.from === e.to) continue;
      if (page === "job") changed = true;
      else if (tab && (e.from === tab.state || e.to === tab.state || e.to === "removed")) changed = true;
      else document.querySelectorAll('[data-status="' + e.job + '"]').forEach(function (b) { b.textContent = e.to; b.className = "badge " + e.to; });
    }
    if (changed) refresh();
  }

  // ---- the one connection --------------------------------------------------------------------------
  function connect() {
    const live = document.getElementById("live");
    if (!live || typeof EventSource === "undefined") return;
    const params = new URLSearchParams();
    if (page === "queue" && queue) params.set("queue", queue);
    if (page === "job" && job) params.set("job", job);
    const source = new EventSource("/events" + (params.toString() ? "?" + params : ""));
    const label = live.querySelector(".live-text");
    source.onopen = function () { live.className = "live on"; label.textContent = "live"; };
    source.onerror = function () { live.className = "live off"; label.textContent = "reconnecting"; };
    source.addEventListener("stats", function (e) { onStats(JSON.parse(e.data)); });
    source.addEventListener("jobs", function (e) { onJobs(JSON.parse(e.data)); });
    source.addEventListener("resync", refresh);
    window.addEventListener("pagehide", function () { source.close(); });
  }

  seedLastMinute();
  drawAll();
  window.addEventListener("resize", drawAll);
  connect();
})();
