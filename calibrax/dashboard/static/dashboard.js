/* calibrax dashboard: draws the index, the regressions and a benchmark's history from the data
   that the page's <script> tags assigned (window.CALIBRAX_*). No network, no dependencies. */
(function () {
  "use strict";
  var SITE = window.CALIBRAX_SITE || {};
  var ROOT = document.body.getAttribute("data-root") || "";
  var SVG = "http://www.w3.org/2000/svg";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function fmt(v, unit) {
    if (v === null || v === undefined || !isFinite(v)) return "-";
    if (unit === "s") {
      var a = Math.abs(v);
      if (a < 1e-6) return (v * 1e9).toPrecision(4) + " ns";
      if (a < 1e-3) return (v * 1e6).toPrecision(4) + " \u00b5s";
      if (a < 1) return (v * 1e3).toPrecision(4) + " ms";
      return v.toPrecision(4) + " s";
    }
    return Number(v).toPrecision(4) + (unit ? " " + unit : "");
  }
  function pct(r) { return (r > 0 ? "+" : "") + (r * 100).toFixed(1) + "%"; }
  function paramText(key) {
    var p = JSON.parse(key), words = Object.keys(p).map(function (k) { return k + "=" + p[k]; });
    return words.length ? words.join(" ") : "-";
  }
  function relative(url, prefix) { return /^([a-z]+:|\/|#)/i.test(url) ? url : prefix + url; }
  function runLink(id, prefix, cls) {
    if (!SITE.report_url) return el("span", { "class": cls }, id);
    return el("a", { "class": cls, href: relative(SITE.report_url.split("{run}").join(encodeURIComponent(id)), prefix) }, id);
  }
  function commitLink(sha, cls) {
    if (!sha) return el("span", { "class": cls }, "-");
    if (!SITE.commit_url) return el("span", { "class": cls }, sha.slice(0, 10));
    return el("a", { "class": cls, href: SITE.commit_url.split("{sha}").join(encodeURIComponent(sha)) }, sha.slice(0, 10));
  }
  function cell(row, child, cls) {
    var td = el("td", cls ? { "class": cls } : {});
    if (child instanceof Node) td.appendChild(child); else td.textContent = child;
    row.appendChild(td);
    return td;
  }
  function fill(select, values, labels) {
    select.textContent = "";
    values.forEach(function (v, i) { select.appendChild(el("option", { value: v }, labels ? labels[i] : v)); });
  }

  /* The index: one row per case and hardware. */
  function sparkline(values) {
    var w = 90, h = 22, s = svg("svg", { width: w, height: h, viewBox: "0 0 " + w + " " + h, "class": "sparkline" });
    if (values.length < 2) return s;
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values), span = hi - lo || 1;
    var pts = values.map(function (v, i) {
      return (i * (w - 2) / (values.length - 1) + 1).toFixed(1) + "," + (h - 2 - (v - lo) / span * (h - 4)).toFixed(1);
    });
    s.appendChild(svg("polyline", { "class": "spark", points: pts.join(" ") }));
    return s;
  }
  function index() {
    var rows = window.CALIBRAX_INDEX || [], body = document.querySelector("#cases tbody");
    var hw = document.getElementById("hardware"), filter = document.getElementById("filter");
    var names = Array.from(new Set(rows.map(function (r) { return r.hw; }))).sort();
    fill(hw, [""].concat(names), ["all (" + names.length + ")"].concat(names.map(function (n) { return n || "unknown"; })));
    document.getElementById("summary").textContent = new Set(rows.map(function (r) { return r.b; })).size +
      " benchmarks, " + rows.length + " cases, " + SITE.runs + " runs; published " + SITE.generated + ".";
    function draw() {
      body.textContent = "";
      var words = filter.value.toLowerCase();
      rows.forEach(function (r) {
        if (hw.value && r.hw !== hw.value) return;
        if (words && (r.b + " " + paramText(r.p)).toLowerCase().indexOf(words) < 0) return;
        var tr = el("tr");
        var link = el("a", { href: "b/" + r.s + ".html#" + encodeURIComponent(JSON.stringify({ p: r.p, h: r.hw })) }, r.b);
        cell(tr, link);
        cell(tr, paramText(r.p));
        cell(tr, (r.hw || "unknown").slice(0, 12));
        var ci = r.lo !== null && r.hi !== null ? " (" + fmt(r.lo, r.unit) + " \u2013 " + fmt(r.hi, r.unit) + ")" : "";
        cell(tr, fmt(r.last, r.unit) + ci, "num");
        cell(tr, sparkline(r.spark));
        var cp = el("span");
        if (r.cp) {
          cp.appendChild(el("span", { "class": r.cp.worse ? "worse" : "better" }, pct(r.cp.rel) + " "));
          cp.appendChild(commitLink(r.cp.commit, "commit"));
          cp.appendChild(document.createTextNode(" p=" + r.cp.p));
        } else cp.textContent = "none";
        cell(tr, cp);
        cell(tr, r.verdict || "-", r.verdict ? "verdict-" + r.verdict : "");
        body.appendChild(tr);
      });
    }
    hw.addEventListener("change", draw);
    filter.addEventListener("input", draw);
    draw();
  }

  function regressions() {
    var body = document.querySelector("#regressions tbody");
    (window.CALIBRAX_REGRESSIONS || []).forEach(function (r) {
      var tr = el("tr");
      cell(tr, r.at.slice(0, 19).replace("T", " "));
      cell(tr, el("a", { href: "b/" + r.s + ".html#" + encodeURIComponent(JSON.stringify({ p: r.p, h: r.hw })) }, r.b));
      cell(tr, paramText(r.p));
      cell(tr, (r.hw || "unknown").slice(0, 12));
      cell(tr, pct(r.rel), "num worse");
      cell(tr, fmt(r.before, r.unit) + " \u2192 " + fmt(r.after, r.unit), "num");
      cell(tr, String(r.pv), "num");
      cell(tr, runLink(r.run, "", "run"));
      cell(tr, commitLink(r.commit, "commit"));
      body.appendChild(tr);
    });
  }

  /* A benchmark's page: selectors for params and hardware, one history chart. */
  function decodePart(s, start, out) {
    var scale = Math.pow(10, s.e), pos = start;
    for (var i = 0; i < s.m.length; i++) {
      var m = s.m[i] * scale;
      pos += s.x[i]; out.x.push(pos); out.m.push(m);
      out.lo.push(s.lo[i] < 0 ? m : m - s.lo[i] * scale);
      out.hi.push(s.hi[i] < 0 ? m : m + s.hi[i] * scale);
    }
    return pos;
  }
  /* A series' points: the older ones from the page's base file (written once, kept while
     they do not change), then the newer ones from the page's own data. */
  function decode(s, hardware) {
    var out = { x: [], m: [], lo: [], hi: [] }, base = window.CALIBRAX_BASE || {};
    var older = (base.series || {})[s.p + "\u0000" + hardware[s.h]];
    decodePart(s, older ? decodePart(older, 0, out) : 0, out);
    return out;
  }
  function benchmark() {
    var data = window.CALIBRAX_PAGE, runs = window.CALIBRAX_RUNS;
    var series = data.series.map(function (s) { s.values = JSON.parse(s.p); return s; });
    var names = data.params, state = { p: null, h: 0 };
    var box = document.getElementById("selectors"), selects = {};
    function valueOf(s, name) { return JSON.stringify(s.values[name]); }
    function matches(s, want, skip) {
      return names.every(function (k) { return k === skip || want[k] === undefined || valueOf(s, k) === want[k]; });
    }
    function current() { for (var i = 0; i < series.length; i++) if (series[i].p === state.p && series[i].h === state.h) return series[i]; return null; }
    function choose(s) { state.p = s.p; state.h = s.h; }
    function wanted() { var s = current(), out = {}; names.forEach(function (k) { out[k] = s ? valueOf(s, k) : undefined; }); return out; }
    names.forEach(function (name) {
      var select = el("select", { "data-param": name });
      var values = Array.from(new Set(series.map(function (s) { return valueOf(s, name); })));
      fill(select, values, values.map(function (v) { return v === undefined ? "(none)" : String(JSON.parse(v)); }));
      select.addEventListener("change", function () {
        var want = wanted(); want[name] = select.value;
        var pick = series.filter(function (s) { return matches(s, want) && s.h === state.h; })[0] ||
          series.filter(function (s) { return matches(s, want); })[0] ||
          series.filter(function (s) { return valueOf(s, name) === select.value; })[0];
        if (pick) choose(pick);
        update();
      });
      var label = el("label", {}, name + " ");
      label.appendChild(select);
      box.appendChild(label);
      selects[name] = select;
    });
    var hwSelect = el("select", { id: "hw" });
    fill(hwSelect, data.hardware.map(function (_, i) { return String(i); }),
      data.hardware.map(function (h) { return h || "unknown"; }));
    hwSelect.addEventListener("change", function () {
      var want = wanted(), h = Number(hwSelect.value);
      var pick = series.filter(function (s) { return s.h === h && matches(s, want); })[0] ||
        series.filter(function (s) { return s.h === h; })[0];
      if (pick) choose(pick);
      update();
    });
    var hwLabel = el("label", {}, "Hardware ");
    hwLabel.appendChild(hwSelect);
    box.appendChild(hwLabel);
    ["xmode", "log"].forEach(function (id) { document.getElementById(id).addEventListener("change", update); });
    function fromHash() {
      try {
        var asked = JSON.parse(decodeURIComponent(location.hash.slice(1)) || "{}");
        var found = series.filter(function (s) { return s.p === asked.p && data.hardware[s.h] === asked.h; })[0];
        choose(found || current() || series[0]);
      } catch (e) { choose(current() || series[0]); }
    }
    fromHash();
    window.addEventListener("hashchange", function () { fromHash(); update(); });
    function update() {
      var s = current(), want = wanted();
      names.forEach(function (name) {
        var select = selects[name];
        select.value = want[name];
        Array.from(select.options).forEach(function (o) {
          var w = Object.assign({}, want); w[name] = o.value;
          o.disabled = !series.some(function (t) { return matches(t, w); });  // another hardware may have it
        });
      });
      hwSelect.value = String(state.h);
      Array.from(hwSelect.options).forEach(function (o) {
        o.disabled = !series.some(function (t) { return t.h === Number(o.value) && matches(t, want); });
      });
      if (s) draw(s);
    }
    function draw(s) {
      var d = s.decoded || (s.decoded = decode(s, data.hardware)), chart = document.getElementById("chart");
      var byDate = document.getElementById("xmode").value === "date", log = document.getElementById("log").checked;
      var W = 960, H = 380, L = 70, R = 16, T = 14, B = 40, first = runs.first;
      var xv = d.x.map(function (p) { return byDate ? Date.parse(runs.t[p - first] + "Z") : p; });
      function xat(p) { return byDate ? Date.parse(runs.t[p - first] + "Z") : p; }
      var yt = log ? function (v) { return Math.log10(Math.max(v, 1e-300)); } : function (v) { return v; };
      var x0 = Math.min.apply(null, xv), x1 = Math.max.apply(null, xv), y0 = Infinity, y1 = -Infinity;
      for (var i = 0; i < d.m.length; i++) { y0 = Math.min(y0, yt(d.lo[i])); y1 = Math.max(y1, yt(d.hi[i])); }
      if (x1 === x0) { x0 -= 1; x1 += 1; }
      if (y1 === y0) { y0 -= Math.abs(y0) * 0.05 || 1; y1 += Math.abs(y1) * 0.05 || 1; }
      var pad = (y1 - y0) * 0.06; y0 -= pad; y1 += pad;
      function X(v) { return (L + (v - x0) / (x1 - x0) * (W - L - R)).toFixed(1); }
      function Y(v) { return (T + (1 - (yt(v) - y0) / (y1 - y0)) * (H - T - B)).toFixed(1); }
      chart.textContent = "";
      var up = [], down = [], line = [];
      for (i = 0; i < d.m.length; i++) {
        up.push(X(xv[i]) + "," + Y(d.hi[i])); down.push(X(xv[i]) + "," + Y(d.lo[i])); line.push(X(xv[i]) + "," + Y(d.m[i]));
      }
      chart.appendChild(svg("polygon", { "class": "band", points: up.concat(down.reverse()).join(" ") }));
      chart.appendChild(svg("polyline", { "class": "line", points: line.join(" ") }));
      chart.appendChild(svg("line", { "class": "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }));
      chart.appendChild(svg("line", { "class": "axis", x1: L, y1: T, x2: L, y2: H - B }));
      for (var k = 0; k <= 4; k++) {
        var yv = y0 + (y1 - y0) * k / 4, real = log ? Math.pow(10, yv) : yv;
        var ty = svg("text", { x: L - 6, y: (T + (1 - k / 4) * (H - T - B) + 4).toFixed(1), "text-anchor": "end" });
        ty.textContent = fmt(real, data.unit);
        chart.appendChild(ty);
      }
      [[d.x[0], "start"], [d.x[d.x.length - 1], "end"]].forEach(function (e) {
        var t = svg("text", { x: X(xat(e[0])), y: H - B + 16, "text-anchor": e[1] });
        t.textContent = byDate ? runs.t[e[0] - first].slice(0, 10) : (runs.c[e[0] - first] || runs.id[e[0] - first]).slice(0, 10);
        chart.appendChild(t);
      });
      var xl = svg("text", { x: (W + L) / 2, y: H - 6, "text-anchor": "middle" });
      xl.textContent = byDate ? "run date" : "runs in commit order";
      chart.appendChild(xl);
      s.seg.forEach(function (g) {
        if (g[2] === null) return;
        chart.appendChild(svg("line", { "class": "seg seg-" + g[3], "data-kind": g[3], x1: X(xat(g[0])), x2: X(xat(g[1])), y1: Y(g[2]), y2: Y(g[2]) }));
        if (g[3] === "accept") {
          var acc = svg("line", { "class": "accepted", x1: X(xat(g[0])), x2: X(xat(g[0])), y1: T, y2: H - B });
          var at = svg("title"); at.textContent = "accepted shift at run " + runs.id[g[0] - first];
          acc.appendChild(at); chart.appendChild(acc);
        }
      });
      var tbody = document.querySelector("#changepoints tbody");
      tbody.textContent = "";
      s.cp.forEach(function (c) {
        var id = runs.id[c[0] - first], sha = runs.c[c[0] - first];
        var link = runLink(id, ROOT, "cp-link");
        var a = link.tagName === "A" ? link : null;
        var g = svg(a ? "a" : "g", a ? { href: a.getAttribute("href"), "class": "cp", "data-run": id } : { "class": "cp", "data-run": id });
        g.appendChild(svg("line", { x1: X(xat(c[0])), x2: X(xat(c[0])), y1: T, y2: H - B }));
        g.appendChild(svg("circle", { cx: X(xat(c[0])), cy: Y(c[4]), r: 4 }));
        var tt = svg("title"); tt.textContent = pct(c[1]) + " at run " + id + " (p=" + c[2] + ")";
        g.appendChild(tt); chart.appendChild(g);
        var tr = el("tr");
        cell(tr, runLink(id, ROOT, "cp-run"));
        cell(tr, commitLink(sha, "cp-commit"));
        cell(tr, pct(c[1]), "num " + ((c[1] > 0) === (data.direction !== "higher") ? "worse" : "better"));
        cell(tr, fmt(c[3], data.unit) + " \u2192 " + fmt(c[4], data.unit), "num");
        cell(tr, String(c[2]), "num");
        tbody.appendChild(tr);
      });
      var notes = document.getElementById("notes"), shown = new Set(d.x);
      notes.textContent = "";
      data.notes.forEach(function (n) {
        var li = el("li", { "class": "note-" + n[1] }, n[1] + " (" + n[3] + "): " + n[2] + " \u2014 run ");
        li.appendChild(runLink(runs.id[n[0] - first] || "", ROOT, "note-run"));
        notes.appendChild(li);
        if (n[1] === "note" && shown.has(n[0])) {
          var dot = svg("circle", { "class": "note", cx: X(xat(n[0])), cy: T + 4, r: 3 });
          var nt = svg("title"); nt.textContent = n[2]; dot.appendChild(nt); chart.appendChild(dot);
        }
      });
      if (!data.notes.length) notes.appendChild(el("li", {}, "none"));
      var hover = svg("rect", { x: L, y: T, width: W - L - R, height: H - T - B, fill: "transparent" });
      hover.addEventListener("click", function (ev) {
        var box = chart.getBoundingClientRect(), px = (ev.clientX - box.left) * W / box.width, best = 0;
        for (var j = 1; j < xv.length; j++) if (Math.abs(X(xv[j]) - px) < Math.abs(X(xv[best]) - px)) best = j;
        show(best);
      });
      chart.insertBefore(hover, chart.firstChild);
      function show(j) {
        var p = d.x[j], panel = document.getElementById("point");
        panel.hidden = false; panel.textContent = "Run ";
        panel.appendChild(runLink(runs.id[p - first], ROOT, "point-run"));
        panel.appendChild(document.createTextNode(" started " + runs.t[p - first] + " at commit "));
        panel.appendChild(commitLink(runs.c[p - first], "point-commit"));
        panel.appendChild(document.createTextNode(": " + fmt(d.m[j], data.unit) + " (95% CI " + fmt(d.lo[j], data.unit) +
          " \u2013 " + fmt(d.hi[j], data.unit) + ")"));
      }
      document.getElementById("caption").textContent = data.benchmark + " " + paramText(s.p) + " on " +
        (data.hardware[s.h] || "unknown hardware") + ": " + d.m.length + " runs, " + s.cp.length + " changepoints; " +
        data.measure + " median per run with its 95% CI.";
      window.CALIBRAX_VIEW = {
        params: s.p, hardware: data.hardware[s.h], runs: d.x.map(function (p) { return runs.id[p - first]; }),
        changepoints: s.cp.map(function (c) { return runs.id[c[0] - first]; }),
        segments: s.seg.map(function (g) { return [runs.id[g[0] - first], g[3]]; })
      };
      try {
        history.replaceState(null, "", "#" + encodeURIComponent(JSON.stringify({ p: s.p, h: data.hardware[s.h] })));
      } catch (e) { /* some browsers refuse history changes on file:// pages; the view still changes */ }
    }
    update();
    window.CALIBRAX_LOADED = performance.now();
  }

  var page = document.body.getAttribute("data-page");
  if (page === "index") index();
  else if (page === "regressions") regressions();
  else if (page === "benchmark") benchmark();
})();
