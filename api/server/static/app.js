// The lineage explorer: runs, a run's step DAG, and lineage around any node, as of any moment.
// Plain JavaScript over the JSON API (/api/v1); the view's state lives in the URL hash.
"use strict";

(function () {
  const API = "/api/v1";
  const $ = (id) => document.getElementById(id);
  const COLORS = {
    artifact: ["#e8f1fb", "#1565c0"], deleted: ["#eeeeee", "#9e9e9e"],
    completed: ["#e6f4ea", "#2e7d32"], cached: ["#f3f3f3", "#616161"],
    failed: ["#fbe3e4", "#c62828"], running: ["#fff4d6", "#ef6c00"], run: ["#ffffff", "#334e68"],
  };
  const view = { cy: null, state: {}, graph: { nodes: new Map(), edges: new Map() }, picked: [] };
  window.lineagelogView = view; // for tests and the console: the graph on screen

  // -- small helpers -------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  const short = (id) => (id ? String(id).slice(0, 8) : "-");
  const when = (t) => (t ? String(t).replace("T", " ").slice(0, 19) : "-");
  function duration(s) {
    if (s === null || s === undefined) return "-";
    if (s < 1) return `${Math.round(s * 1000)}ms`;
    if (s < 60) return `${s.toFixed(1)}s`;
    return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  }
  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, v);
    const text = q.toString();
    return text ? `?${text}` : "";
  }
  async function api(path, params) {
    const response = await fetch(API + path + query(params || {}), { credentials: "same-origin" });
    const body = await response.json().catch(() => ({ message: response.statusText }));
    if (!response.ok) throw new Error(body.message || `${response.status} ${response.statusText}`);
    return body;
  }
  function showError(error) {
    const box = $("error");
    box.textContent = error ? String(error.message || error) : "";
    box.hidden = !error;
  }

  // -- the URL is the state --------------------------------------------------------------------
  function readState() {
    const hash = location.hash.replace(/^#\/?/, "");
    const [path, search] = hash.split("?");
    const params = Object.fromEntries(new URLSearchParams(search || ""));
    const parts = path.split("/").map(decodeURIComponent);
    return { view: parts[0] || "runs", id: parts[1] || null, ...params };
  }
  function go(state) {
    const { view: name, id, ...params } = state;
    const path = id ? `${name}/${encodeURIComponent(id)}` : name;
    location.hash = `#/${path}${query(params)}`;
  }
  const asOf = () => view.state.as_of || "";

  // -- as of: a slider over the log's positions, or typed text ----------------------------------
  let history = { first_position: 0, last_position: 0 };
  async function loadHistory() {
    history = await api("/history");
    const slider = $("asof-slider");
    slider.min = String(history.first_position);
    slider.max = String(history.last_position);
    syncTimebar();
  }
  function syncTimebar() {
    const slider = $("asof-slider");
    const value = asOf();
    const past = value !== "";
    slider.value = past && /^\d+$/.test(value) ? value : String(history.last_position);
    $("asof-text").value = value;
    $("timebar").classList.toggle("past", past);
    $("asof-note").textContent = past
      ? `showing the log as it stood at ${/^\d+$/.test(value) ? "position " + value : value}`
      : `now: ${history.last_position} events, ${when(history.first_time)} to ${when(history.last_time)}`;
  }
  function setAsOf(value) {
    const next = { ...view.state };
    if (value === "" || value === String(history.last_position)) delete next.as_of;
    else next.as_of = value;
    go(next);
  }

  // -- runs ----------------------------------------------------------------------------------
  let runsOffset = 0;
  async function showRuns(append) {
    showPanel("runs");
    const body = $("runs-body");
    if (!append) { body.replaceChildren(); runsOffset = 0; }
    const result = await api("/runs", {
      pipeline: $("runs-pipeline").value.trim(), status: $("runs-status").value,
      limit: 50, offset: runsOffset, as_of: asOf(),
    });
    for (const run of result.items) body.append(runRow(run));
    runsOffset = result.next_offset || runsOffset + result.items.length;
    $("runs-more").hidden = result.next_offset === null;
    $("runs-count").textContent = `${body.children.length} runs shown`;
  }
  function runRow(run) {
    return el("tr", { "data-run": run.id, onclick: () => go({ view: "run", id: run.id, as_of: asOf() || undefined }) },
      el("td", { class: "mono" }, short(run.id)), el("td", {}, run.pipeline), el("td", {}, run.run_name),
      el("td", {}, el("span", { class: `status ${run.status}` }, run.status)),
      el("td", {}, run.steps), el("td", {}, run.cached_steps), el("td", {}, when(run.started_at)),
      el("td", {}, duration(run.duration_s)), el("td", {}, run.tags.map((t) => el("span", { class: "tag" }, t))));
  }

  // -- the graph -------------------------------------------------------------------------------
  function nodeLook(n) {
    const a = n.attributes || {};
    if (n.kind === "artifact") {
      const deleted = !!a.deleted;
      const name = a.name ? `${a.name}:${a.version}` : n.label;
      return { label: `${name}${deleted ? "\n(deleted)" : ""}`, look: deleted ? "deleted" : "artifact" };
    }
    if (n.kind === "step_run") {
      const status = a.cache_outcome === "hit" ? "cached" : a.status || "completed";
      const note = status === "cached" ? "\ncache hit" : status === "failed" ? "\nFAILED" : status === "running" ? "\nrunning" : "";
      return { label: `${a.invocation_id || n.label}${note}`, look: status };
    }
    return { label: a.pipeline ? `${a.pipeline} / ${a.run_name}` : n.label, look: "run" };
  }
  function style() {
    const byLook = Object.entries(COLORS).map(([look, [fill, line]]) => ({
      selector: `node.${look}`, style: { "background-color": fill, "border-color": line },
    }));
    return [
      { selector: "node", style: {
        label: "data(label)", "text-wrap": "wrap", "text-max-width": 150, "font-size": 11,
        "text-valign": "center", "text-halign": "center", color: "#1f2933", width: "data(w)",
        height: "data(h)", padding: 9, shape: "round-rectangle", "border-width": 1.5,
        "font-family": "system-ui, Helvetica, Arial, sans-serif", "min-zoomed-font-size": 5 } },
      ...byLook,
      { selector: "node.artifact, node.deleted", style: { shape: "cut-rectangle" } },
      { selector: "node.deleted", style: { "border-style": "dotted", color: "#757575" } },
      { selector: "node.cached", style: { "border-style": "dashed" } },
      { selector: "node.failed", style: { "border-width": 2.5, color: "#b71c1c" } },
      { selector: "node.run", style: { shape: "rectangle", "font-weight": 600 } },
      { selector: "node.root", style: { "border-width": 3.5 } },
      { selector: "node:selected", style: { "overlay-color": "#1565c0", "overlay-opacity": 0.12, "overlay-padding": 4 } },
      { selector: "edge", style: {
        width: 1.3, "line-color": "#9aa5b1", "target-arrow-color": "#9aa5b1", "target-arrow-shape": "triangle",
        "curve-style": "bezier", "arrow-scale": 0.8 } },
      { selector: "edge.fast", style: { "curve-style": "straight" } },
      { selector: "edge.reused, edge.cache_hit_of", style: { "line-style": "dashed", "line-color": "#616161", "target-arrow-color": "#616161" } },
      { selector: "node.path", style: { "border-color": "#8e24aa", "border-width": 3.5, "z-index": 10 } },
      { selector: "edge.path", style: { "line-color": "#8e24aa", "target-arrow-color": "#8e24aa", width: 3, "z-index": 10 } },
      { selector: ".faded", style: { opacity: 0.25 } },
    ];
  }
  let dagreReady = false;
  function useDagre() {
    if (!dagreReady) cytoscape.use(cytoscapeDagre); // once per page, whichever graph comes first
    dagreReady = true;
  }
  function ensureCy() {
    if (view.cy) return view.cy;
    useDagre();
    view.cy = cytoscape({ container: $("cy"), style: style(), minZoom: 0.05, maxZoom: 3 });
    view.cy.on("tap", "node", (event) => onNodeTap(event.target, event.originalEvent));
    view.cy.on("tap", (event) => { if (event.target === view.cy) clearPath(); });
    return view.cy;
  }
  function merge(answer, root) {
    for (const n of answer.nodes) view.graph.nodes.set(n.id, n);
    for (const e of answer.edges) view.graph.edges.set(`${e.src}>${e.dst}>${e.kind}`, e);
    if (root) view.graph.root = answer.root;
  }
  function draw() {
    const cy = ensureCy();
    const elements = [];
    for (const n of view.graph.nodes.values()) {
      const { label, look } = nodeLook(n);
      const classes = [look, n.id === view.graph.root ? "root" : ""].join(" ");
      elements.push({ group: "nodes", data: { id: n.id, label, kind: n.kind, ...labelBox(label) }, classes });
    }
    for (const [key, e] of view.graph.edges) {
      if (view.graph.nodes.has(e.src) && view.graph.nodes.has(e.dst)) {
        elements.push({ group: "edges", data: { id: key, source: e.src, target: e.dst, kind: e.kind }, classes: e.kind });
      }
    }
    const started = performance.now();
    const big = view.graph.nodes.size > BIG_GRAPH;
    cy.batch(() => {
      cy.elements().remove();
      cy.add(elements);
      if (big) cy.edges().addClass("fast");
    });
    cy.layout(layoutFor(cy, big)).run();
    cy.fit(undefined, 24);
    if (cy.zoom() > 1.25) { cy.zoom(1.25); cy.center(); } // a small graph stays at reading size
    $("cy").dataset.nodes = String(cy.nodes().length);
    $("cy").dataset.edges = String(cy.edges().length);
    delete $("cy").dataset.drawnMs;
    cy.one("render", () => requestAnimationFrame(() => { // laid out and painted
      view.drawnMs = performance.now() - started;
      $("cy").dataset.drawnMs = String(Math.round(view.drawnMs));
    }));
    cy.forceRender();
  }
  // A node's size from its label, measured once (cytoscape's width: "label" is deprecated).
  const FONT = "11px system-ui, Helvetica, Arial, sans-serif";
  const MAX_TEXT = 150;
  let measure = null;
  function labelBox(label) {
    if (!measure) { measure = document.createElement("canvas").getContext("2d"); measure.font = FONT; }
    let lines = 0, widest = 0;
    for (const line of String(label).split("\n")) {
      const width = measure.measureText(line).width;
      lines += Math.max(1, Math.ceil(width / MAX_TEXT));
      widest = Math.max(widest, Math.min(width, MAX_TEXT));
    }
    return { w: Math.ceil(widest) + 4, h: lines * 14 };
  }
  // dagre reads best; its crossing minimisation is too slow for big graphs (4.7 s at 1,000
  // nodes), where the linear layered layout of layered.js places them instead.
  const BIG_GRAPH = 500;
  function layoutFor(cy, big) {
    if (!big) return { name: "dagre", rankDir: "LR", nodeSep: 22, rankSep: 70, edgeSep: 6, animate: false };
    const ids = cy.nodes().map((n) => n.id());
    const edges = cy.edges().map((e) => [e.data("source"), e.data("target")]);
    const placed = lineagelogLayered.positions(ids, edges);
    return { name: "preset", positions: (node) => placed[node.id()], fit: false, animate: false };
  }
  function resetGraph() { view.graph = { nodes: new Map(), edges: new Map() }; view.picked = []; }

  async function showLineage() {
    const s = view.state;
    showPanel("graph");
    $("find-node").value = s.node || "";
    $("find-direction").value = s.direction || "both";
    $("find-depth").value = s.depth || "1";
    if (!s.node) {
      $("graph-title").textContent = "Lineage: name an artifact, a run or a step run above";
      resetGraph(); draw();
      return;
    }
    const params = { node: s.node, direction: s.direction || "both", depth: s.depth || 1, max_nodes: s.max_nodes, as_of: asOf() };
    const answer = await api("/lineage", params);
    resetGraph(); merge(answer, true); draw();
    const root = answer.nodes.find((n) => n.id === answer.root);
    $("graph-title").textContent = `Lineage of ${root ? nodeLook(root).label.split("\n")[0] : s.node}`;
    note(answer);
    setDownloads(`/lineage/diagram`, params);
    if (root) showNode(root);
  }
  async function showRun() {
    showPanel("graph");
    const run = await api(`/runs/${encodeURIComponent(view.state.id)}`, { as_of: asOf() });
    const answer = await api(`/runs/${encodeURIComponent(run.id)}/graph`, { as_of: asOf() });
    resetGraph(); merge(answer, true); draw();
    view.run = run;
    $("graph-title").replaceChildren(`${run.pipeline} / ${run.run_name} `, el("span", { class: `status ${run.status}` }, run.status));
    note(answer, `${run.steps.length} steps, started ${when(run.started_at)}, took ${duration(run.duration_s)}`);
    setDownloads(`/runs/${encodeURIComponent(run.id)}/diagram`, { as_of: asOf() });
    $("panel").replaceChildren(runPanel(run));
  }
  function note(answer, extra) {
    const parts = [`${answer.nodes.length} nodes`];
    if (answer.truncated) parts.push(`cut from ${answer.total_nodes}: the ${answer.max_nodes} nearest are shown`);
    if (answer.as_of !== null && answer.as_of !== undefined) parts.push(`as of position ${answer.as_of}`);
    if (extra) parts.push(extra);
    $("graph-note").textContent = parts.join(" · ");
  }
  function setDownloads(path, params) {
    for (const format of ["svg", "dot"]) {
      const link = $(`download-${format}`);
      link.href = API + path + query({ ...params, format });
      link.setAttribute("download", `lineage.${format}`);
    }
  }

  async function onNodeTap(node, original) {
    const data = view.graph.nodes.get(node.id());
    if (original && original.shiftKey) { pickForPath(node.id()); return; }
    clearPath();
    showNode(data);
    await expand(node.id());
  }
  async function expand(id) {
    const before = view.graph.nodes.size;
    const answer = await api("/lineage", { node: id, direction: "both", depth: 1, as_of: asOf() });
    merge(answer, false);
    if (view.graph.nodes.size !== before) draw();
    view.cy.$id(id).select();
  }

  // -- the path between two nodes ----------------------------------------------------------------
  function pickForPath(id) {
    view.picked = [...view.picked.filter((p) => p !== id), id].slice(-2);
    view.cy.$id(id).addClass("path");
    if (view.picked.length === 2) highlightPath(...view.picked);
  }
  function directedPath(a, b) {
    const next = new Map();
    for (const e of view.graph.edges.values()) {
      if (!next.has(e.src)) next.set(e.src, []);
      next.get(e.src).push(e.dst);
    }
    const seen = new Map([[a, null]]);
    const queue = [a];
    while (queue.length) {
      const at = queue.shift();
      if (at === b) break;
      for (const n of next.get(at) || []) if (!seen.has(n)) { seen.set(n, at); queue.push(n); }
    }
    if (!seen.has(b)) return null;
    const path = [];
    for (let at = b; at !== null; at = seen.get(at)) path.unshift(at);
    return path;
  }
  function highlightPath(a, b) {
    const cy = view.cy;
    const path = directedPath(a, b) || directedPath(b, a);
    cy.elements().removeClass("path faded");
    if (!path) { $("graph-note").textContent = "no path between the two nodes in this graph"; return; }
    cy.elements().addClass("faded");
    path.forEach((id, i) => {
      cy.$id(id).removeClass("faded").addClass("path");
      if (i > 0) cy.edges(`[source = "${path[i - 1]}"][target = "${id}"]`).removeClass("faded").addClass("path");
    });
    $("graph-note").textContent = `path of ${path.length} nodes highlighted`;
  }
  function clearPath() { view.picked = []; if (view.cy) view.cy.elements().removeClass("path faded"); }

  // -- the side panel ------------------------------------------------------------------------------
  function dl(rows) {
    return el("dl", {}, rows.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  }
  function showNode(n) {
    if (!n) return;
    if (n.kind === "artifact") artifactPanel(n.id).catch(showError);
    else if (n.kind === "step_run") stepPanel(n.id).catch(showError);
    else $("panel").replaceChildren(el("h2", {}, nodeLook(n).label), dl([["run id", n.id], ["status", n.attributes.status], ["started", when(n.attributes.started_at)]]),
      el("p", {}, el("a", { href: `#/run/${encodeURIComponent(n.id)}` }, "open the run's step graph")));
  }
  function runPanel(run) {
    return el("div", {},
      el("h2", {}, `${run.pipeline} / ${run.run_name}`),
      dl([["id", run.id], ["status", run.status], ["started", when(run.started_at)], ["duration", duration(run.duration_s)],
        ["cached steps", `${run.cached_steps} of ${run.steps.length}`], ["failed step", run.failed_step], ["error", run.error]]),
      Object.keys(run.parameters).length ? [el("h3", {}, "parameters"), el("pre", {}, JSON.stringify(run.parameters, null, 2))] : null,
      compareLinkForRun(run),
      el("h3", {}, "steps"),
      run.steps.map((s) => el("div", { class: "link", onclick: () => stepPanel(s.id).catch(showError) },
        el("span", { class: `status ${s.cache_outcome === "hit" ? "cached" : s.status}` }, s.cache_outcome === "hit" ? "cached" : s.status), " ", s.invocation)));
  }
  async function stepPanel(id) {
    const cache = await api(`/step-runs/${encodeURIComponent(id)}/cache`, { as_of: asOf() });
    const run = await api(`/runs/${encodeURIComponent(cache.run_id)}`, { as_of: asOf() });
    const s = run.steps.find((x) => x.id === id) || {};
    const outcome = cache.outcome || "-";
    const refs = (map) => Object.entries(map || {}).map(([k, v]) =>
      el("div", { class: "link", onclick: () => artifactPanel(v.id).catch(showError) }, `${k} → ${v.name}:${v.version}`));
    const differing = cache.ingredients.filter((r) => !r.same);
    $("panel").replaceChildren(el("div", {},
      el("h2", {}, s.invocation || cache.step),
      dl([["step run", id], ["run", `${run.pipeline} / ${run.run_name}`], ["status", s.status], ["started", when(s.started_at)],
        ["ended", when(s.ended_at)], ["duration", duration(s.duration_s)], ["ran on", whereItRan(run.environment)], ["step", s.step],
        ["error", s.error_type ? `${s.error_type}: ${s.error_message}` : null]]),
      el("h3", {}, "cache decision"),
      el("div", { class: `reason ${outcome}` }, el("b", {}, outcome), cache.reason ? ` — ${cache.reason}` : ""),
      cache.compared_with ? el("p", { class: "note" }, `compared with step run ${short(cache.compared_with)}`) : null,
      differing.length ? [el("h3", {}, "ingredients that differ"),
        el("table", {}, el("tr", {}, el("th", {}, "ingredient"), el("th", {}, "this"), el("th", {}, "compared")),
          differing.map((r) => el("tr", {}, el("td", {}, r.ingredient), el("td", { class: "mono" }, short(JSON.stringify(r.this)).padEnd(8)), el("td", { class: "mono" }, r.compared === null ? "-" : short(JSON.stringify(r.compared))))))] : null,
      Object.keys(s.parameters || {}).length ? [el("h3", {}, "parameters"), el("pre", {}, JSON.stringify(s.parameters, null, 2))] : null,
      el("h3", {}, "inputs"), refs(s.inputs), el("h3", {}, "outputs"), refs(s.outputs)));
  }
  // Where a step ran: the host and interpreter its run recorded when it started.
  function whereItRan(env) {
    if (!env || !env.host) return null;
    const python = env.python ? `Python ${env.python}${env.implementation && env.implementation !== "CPython" ? ` (${env.implementation})` : ""}` : null;
    return [env.host, python, env.platform, env.pid ? `pid ${env.pid}` : null].filter(Boolean).join(" · ");
  }
  async function artifactPanel(id) {
    const v = await api(`/artifact-versions/${encodeURIComponent(id)}`, { as_of: asOf() });
    const stepLink = (ref) => el("div", { class: "link", onclick: () => stepPanel(ref.step_run_id).catch(showError) }, `${ref.step} (${short(ref.step_run_id)})`);
    $("panel").replaceChildren(el("div", {},
      el("h2", {}, `${v.name}:${v.version}`, v.deleted ? el("span", { class: "status failed" }, "deleted") : null),
      dl([["id", v.id], ["type", v.data_type], ["artifact type", v.artifact_type], ["size", `${v.size} bytes`],
        ["sha256", short(v.content_hash)], ["created", when(v.created_at)], ["materializer", v.materializer.split(".").pop()]]),
      el("h3", {}, "tags"), v.tags.length ? v.tags.map((t) => el("span", { class: "tag" }, t)) : el("span", { class: "note" }, "none"),
      compareLinkForVersion(v),
      el("h3", {}, "producer"), v.producer ? stepLink(v.producer) : el("span", { class: "note" }, "registered outside a step"),
      el("h3", {}, "consumers"), v.consumers.length ? v.consumers.map(stepLink) : el("span", { class: "note" }, "none yet"),
      Object.keys(v.metadata).length ? [el("h3", {}, "metadata"), dl(Object.entries(v.metadata).map(([k, m]) => [k, typeof m === "object" ? JSON.stringify(m) : m]))] : null,
      v.visualizations.length && !v.deleted ? [el("h3", {}, "visualizations"), ...v.visualizations.map((vis, i) => visualization(v, vis, i))] : null));
  }
  function visualization(v, vis, index) {
    const src = `${API}/artifact-versions/${encodeURIComponent(v.id)}/visualizations/${index}`;
    const box = el("div", { class: "vis", "data-type": vis.type });
    if (vis.type === "html") {
      // its own opaque origin: scripts run, but cannot reach this page, its storage or cookies
      box.append(el("iframe", { sandbox: "allow-scripts", src, title: `${v.name} visualization`, referrerpolicy: "no-referrer" }));
    } else if (vis.type === "image") {
      box.append(el("img", { src, alt: `${v.name} visualization` }));
    } else {
      fetch(src, { credentials: "same-origin" }).then((r) => r.text()).then((text) => {
        if (vis.type === "csv") box.append(csvTable(text));
        else if (vis.type === "json") box.append(el("pre", {}, JSON.stringify(JSON.parse(text), null, 2)));
        else box.append(el("pre", {}, text));
      }).catch(showError);
    }
    return box;
  }
  function csvTable(text) {
    const rows = text.trim().split(/\r?\n/).slice(0, 51).map((line) => line.split(","));
    return el("table", {}, rows.map((cells, i) => el("tr", {}, cells.map((c) => el(i ? "td" : "th", {}, c)))));
  }

  // -- comparison: two runs step by step, or two artifact versions to their root causes -----------
  const compare = { cy: null, answer: null, focused: null };
  view.compare = compare; // for tests and the console: the comparison on screen
  async function showCompare() {
    const s = view.state;
    showPanel("compare");
    $("compare-a").value = s.a || "";
    $("compare-b").value = s.b || "";
    $("compare-kind").value = s.kind || "";
    fillCompareChoices().catch(() => {}); // suggestions only: the form works without them
    for (const id of ["compare-runs", "compare-artifacts", "compare-legend"]) $(id).hidden = true;
    compare.answer = null;
    if (!s.a || !s.b) {
      $("compare-title").textContent = "Compare two runs, or two artifact versions: name them above";
      return;
    }
    $("compare-title").textContent = "comparing…";
    const answer = await api("/diff", { a: s.a, b: s.b, kind: s.kind, as_of: asOf() });
    compare.answer = answer;
    if (answer.kind === "runs") showRunComparison(answer);
    else showArtifactComparison(answer);
  }
  async function fillCompareChoices() {
    const list = $("compare-choices");
    if (list.dataset.asOf === asOf() && list.children.length) return;
    const [runs, versions] = await Promise.all([
      api("/runs", { limit: 50, as_of: asOf() }), api("/artifact-versions", { limit: 200, as_of: asOf() }),
    ]);
    list.replaceChildren(
      ...runs.items.map((r) => el("option", { value: r.id }, `run ${r.pipeline} / ${r.run_name} (${r.status})`)),
      ...versions.items.map((v) => el("option", { value: `${v.name}:${v.version}` }, `artifact ${v.name}:${v.version}`)));
    list.dataset.asOf = asOf();
  }
  function compareWith(a, b) {
    return { view: "compare", a, b, as_of: asOf() || undefined };
  }
  function compareLinkForVersion(v) {
    if (!v.number || v.number < 2) return null;
    const previous = `${v.name}:${v.number - 1}`;
    return el("p", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); go(compareWith(previous, `${v.name}:${v.version}`)); } },
      `why does it differ from ${previous}?`));
  }
  function compareLinkForRun(run) {
    return el("p", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); go({ view: "compare", a: run.id, kind: "runs", as_of: asOf() || undefined }); } },
      "compare this run with another"));
  }
  function codeDiff(code) {
    if (!code) return null;
    if (!code.diff) return el("p", { class: "note" }, code.note || "no source recorded");
    const lines = code.diff.split("\n").map((line) => el("span", { class: line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : null }, line, "\n"));
    return [el("pre", { class: "code-diff" }, lines), code.note ? el("p", { class: "note" }, code.note) : null];
  }
  const versionText = (v) => (v ? `${v.name}:${v.version}${v.deleted ? " (deleted)" : ""}` : "-");
  function showRunComparison(answer) {
    const { old: a, new: b } = answer;
    const differing = answer.steps.filter((s) => s.change !== "same").length;
    const verdict = answer.same ? "no difference" : `${differing} of ${answer.steps.length} steps differ`;
    $("compare-title").textContent = `${a.pipeline} / ${a.name} → ${b.pipeline} / ${b.name}: ${verdict}`;
    const params = answer.parameters.map((d) => el("li", {}, d.reason || `${d.kind} ${d.name}`));
    const rows = answer.steps.map((s) => {
      const outcome = (x) => (x ? (x.cache_outcome === "hit" ? "cached" : x.status) : "-");
      const outputs = s.outputs.map((o) => el("li", {}, `${o.name}: ${o.same ? "same content" : `${versionText(o.old)} → ${versionText(o.new)}`}`));
      const differences = s.differences.map((d) => el("li", {}, d.reason || d.kind));
      if (s.old && s.new && s.old.error !== s.new.error) differences.push(el("li", {}, `error: ${s.new.error || "none"}`));
      return el("tr", { class: s.change, "data-step": s.invocation_id },
        el("td", { class: "mono" }, s.invocation_id),
        el("td", {}, el("span", { class: `change ${s.change}` }, s.change)),
        el("td", {}, `${outcome(s.old)} → ${outcome(s.new)}`),
        el("td", {}, differences.length ? el("ul", {}, differences) : "-", s.code ? el("details", {}, el("summary", {}, "code diff"), codeDiff(s.code)) : null),
        el("td", {}, el("ul", {}, outputs)),
        el("td", {}, `${duration(s.old && s.old.duration_s)} → ${duration(s.new && s.new.duration_s)}`));
    });
    $("compare-runs").replaceChildren(el("div", {},
      params.length ? [el("h3", {}, "run parameters"), el("ul", {}, params)] : null,
      el("table", {}, el("thead", {}, el("tr", {}, ["step", "change", "cache", "what differs", "outputs", "time"].map((h) => el("th", {}, h)))), el("tbody", {}, rows))));
    $("compare-runs").hidden = false;
  }
  function compareStyle() {
    return [
      { selector: "node", style: {
        label: "data(label)", "text-wrap": "wrap", "text-max-width": 170, "font-size": 11,
        "text-valign": "center", "text-halign": "center", color: "#1f2933", width: "label",
        height: "label", padding: 9, shape: "round-rectangle", "border-width": 1.5,
        "background-color": "#f3f3f3", "border-color": "#9e9e9e",
        "font-family": "system-ui, Helvetica, Arial, sans-serif" } },
      { selector: "node.artifact", style: { shape: "cut-rectangle" } },
      { selector: "node.differs", style: { "background-color": "#fff4d6", "border-color": "#ef6c00" } },
      { selector: "node.same", style: { color: "#757575" } },
      { selector: "node.root", style: { "border-width": 3.5 } },
      { selector: "node.cause", style: { "border-color": "#c62828", "border-width": 4 } },
      { selector: "edge", style: {
        width: 1.3, "line-color": "#9aa5b1", "target-arrow-color": "#9aa5b1", "target-arrow-shape": "triangle",
        "curve-style": "bezier", "arrow-scale": 0.8 } },
      { selector: "node.path", style: { "border-color": "#8e24aa", "border-width": 3.5, "z-index": 10 } },
      { selector: "edge.path", style: { "line-color": "#8e24aa", "target-arrow-color": "#8e24aa", width: 3, "z-index": 10 } },
      { selector: "node.cause.path", style: { "border-color": "#c62828", "border-width": 4 } },
      { selector: ".faded", style: { opacity: 0.25 } },
    ];
  }
  function showArtifactComparison(answer) {
    const { old: a, new: b } = answer;
    $("compare-title").textContent = `${versionText(a)} → ${versionText(b)}: ` + (answer.same_content
      ? "the same content" : `${answer.root_causes.length} root cause${answer.root_causes.length === 1 ? "" : "s"}`);
    $("compare-artifacts").hidden = false;
    $("compare-legend").hidden = false;
    if (!compare.cy) {
      useDagre();
      compare.cy = cytoscape({ container: $("compare-cy"), style: compareStyle(), minZoom: 0.05, maxZoom: 3 });
      compare.cy.on("tap", (event) => { if (event.target === compare.cy) focusCause(null); });
    }
    const cy = compare.cy;
    const causeAt = new Map(answer.root_causes.map((c, i) => [c.path_keys[0], i]));
    const roots = new Set(answer.nodes.filter((n) => n.old_id === a.id && n.new_id === b.id).map((n) => n.key));
    const elements = answer.nodes.map((n) => ({
      group: "nodes", data: { id: n.key, label: n.label, kind: n.kind },
      classes: [n.kind, n.differs ? "differs" : "same", roots.has(n.key) ? "root" : "", causeAt.has(n.key) ? "cause" : ""].join(" "),
    }));
    for (const e of answer.edges) elements.push({ group: "edges", data: { id: `${e.src}>${e.dst}`, source: e.src, target: e.dst } });
    cy.batch(() => { cy.elements().remove(); cy.add(elements); });
    cy.resize();
    const big = answer.nodes.length > 400; // long histories: tighter, as the lineage view does
    cy.layout({ name: "dagre", rankDir: "LR", nodeSep: big ? 8 : 22, rankSep: big ? 40 : 70, edgeSep: 6, animate: false }).run();
    cy.fit(undefined, 24);
    if (cy.zoom() > 1.25) { cy.zoom(1.25); cy.center(); }
    $("compare-cy").dataset.nodes = String(cy.nodes().length);
    $("compare-panel").replaceChildren(artifactComparisonPanel(answer));
    focusCause(null);
  }
  function focusCause(index) {
    // All causes' paths are highlighted; one in focus fades the rest of the graph.
    const cy = compare.cy;
    const causes = compare.answer ? compare.answer.root_causes : [];
    const chosen = index === null ? causes : [causes[index]];
    compare.focused = index;
    cy.elements().removeClass("path faded");
    if (index !== null) cy.elements().addClass("faded");
    for (const cause of chosen) {
      cause.path_keys.forEach((key, i) => {
        cy.$id(key).removeClass("faded").addClass("path");
        if (i > 0) cy.$id(`${cause.path_keys[i - 1]}>${key}`).removeClass("faded").addClass("path");
      });
    }
    for (const item of document.querySelectorAll("#compare-panel .cause")) {
      item.classList.toggle("focused", Number(item.dataset.index) === index);
    }
    $("compare-cy").dataset.pathNodes = String(cy.nodes(".path").length);
  }
  function artifactComparisonPanel(answer) {
    const value = answer.value;
    return el("div", {},
      el("h2", {}, answer.same_content ? "Same content" : "Root causes"),
      answer.root_causes.length ? null : el("p", { class: "note" }, answer.same_content ? "The two versions hold the same bytes." : "No divergence found upstream."),
      answer.root_causes.map((c, i) => el("div", { class: "cause", "data-index": i, onclick: () => focusCause(compare.focused === i ? null : i) },
        el("b", {}, c.kind), c.step ? ` in ${c.step}` : "", el("div", {}, c.description),
        el("div", { class: "note" }, c.path.join(" → ")),
        c.code ? el("details", {}, el("summary", {}, "code diff"), codeDiff(c.code)) : null,
        c.consequences.length ? el("div", { class: "note" }, `led to: ${c.consequences.join(", ")}`) : null)),
      value ? [el("h3", {}, `how the values differ (by ${value.how})`),
        el("ul", {}, value.changes.map((ch) => el("li", { class: "mono" }, `${ch.path}: ${ch.old ?? "-"} → ${ch.new ?? "-"}`))),
        value.more ? el("p", { class: "note" }, `and ${value.more} more`) : null,
        value.note ? el("p", { class: "note" }, value.note) : null] : null,
      el("h3", {}, "versions"),
      dl([["baseline", `${versionText(answer.old)} (${short(answer.old.content_hash)})`], ["compared", `${versionText(answer.new)} (${short(answer.new.content_hash)})`]]));
  }

  // -- live: new events without a reload --------------------------------------------------------------
  function listen() {
    const source = new EventSource(`${API}/events/stream`);
    let timer = null;
    const refresh = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        loadHistory().catch(() => {});
        if (asOf()) return; // a view of the past does not move
        if (view.state.view === "runs") showRuns(false).then(markFresh).catch(showError);
      }, 250);
    };
    for (const kind of ["PipelineRun.RunStarted", "PipelineRun.RunCompleted", "PipelineRun.RunFailed", "StepRun.StepSucceeded", "ArtifactName.VersionRegistered"]) {
      source.addEventListener(kind, refresh);
    }
    source.onopen = () => $("live").classList.add("on");
    source.onerror = () => $("live").classList.remove("on");
  }
  const known = new Set();
  function markFresh() {
    for (const row of $("runs-body").children) {
      if (known.size && !known.has(row.dataset.run)) row.classList.add("fresh");
      known.add(row.dataset.run);
    }
  }

  // -- wiring ------------------------------------------------------------------------------------------
  function showPanel(name) {
    $("runs-view").hidden = name !== "runs";
    $("graph-view").hidden = name !== "graph";
    $("compare-view").hidden = name !== "compare";
    for (const a of document.querySelectorAll(".bar nav a")) {
      a.classList.toggle("active", a.dataset.view === (view.state.view === "run" ? "runs" : view.state.view));
    }
  }
  async function route() {
    view.state = readState();
    syncTimebar();
    showError(null);
    try {
      if (view.state.view === "lineage") await showLineage();
      else if (view.state.view === "run" && view.state.id) await showRun();
      else if (view.state.view === "compare") await showCompare();
      else { await showRuns(false); markFresh(); }
    } catch (error) {
      showError(error);
    }
  }
  function start() {
    $("find").addEventListener("submit", (event) => {
      event.preventDefault();
      go({ view: "lineage", node: $("find-node").value.trim(), direction: $("find-direction").value,
        depth: $("find-depth").value, as_of: asOf() || undefined });
    });
    $("asof-slider").addEventListener("change", (event) => setAsOf(event.target.value));
    $("asof-text").addEventListener("change", (event) => setAsOf(event.target.value.trim()));
    $("asof-now").addEventListener("click", () => setAsOf(""));
    $("runs-pipeline").addEventListener("change", () => showRuns(false).catch(showError));
    $("runs-status").addEventListener("change", () => showRuns(false).catch(showError));
    $("runs-more").addEventListener("click", () => showRuns(true).catch(showError));
    $("fit").addEventListener("click", () => view.cy && view.cy.fit(undefined, 24));
    $("compare-form").addEventListener("submit", (event) => {
      event.preventDefault();
      go({ ...compareWith($("compare-a").value.trim(), $("compare-b").value.trim()), kind: $("compare-kind").value || undefined });
    });
    window.addEventListener("hashchange", route);
    loadHistory().then(route, showError);
    listen();
  }
  document.addEventListener("DOMContentLoaded", start);
})();
