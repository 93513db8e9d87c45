// A layered (Sugiyama-style) layout for big lineage graphs, linear in their size.
// dagre's crossing minimisation grows much faster than the graph; above a few hundred nodes
// the explorer places nodes here instead: ranks by longest path from the sources, then each
// rank ordered by the mean position of its neighbours (down and up sweeps), then spaced;
// a rank too tall for the screen folds into several columns.
"use strict";

window.lineagelogLayered = (function () {
  // Topological ranks: a node sits one rank right of its furthest predecessor.
  function ranks(ids, edges) {
    const out = new Map(ids.map((id) => [id, []]));
    const waiting = new Map(ids.map((id) => [id, 0]));
    for (const [src, dst] of edges) { out.get(src).push(dst); waiting.set(dst, waiting.get(dst) + 1); }
    const rank = new Map();
    const ready = ids.filter((id) => waiting.get(id) === 0);
    for (const id of ready) rank.set(id, 0);
    for (let i = 0; i < ready.length; i++) {
      const at = ready[i];
      for (const next of out.get(at)) {
        rank.set(next, Math.max(rank.get(next) || 0, rank.get(at) + 1));
        waiting.set(next, waiting.get(next) - 1);
        if (waiting.get(next) === 0) ready.push(next);
      }
    }
    for (const id of ids) if (!rank.has(id)) rank.set(id, 0); // on a cycle: no order to keep
    return rank;
  }

  // Order every rank by the mean index of the node's neighbours in the rank before it.
  function sweep(layers, neighbours, index) {
    for (const layer of layers) {
      const key = new Map();
      for (const id of layer) {
        const seen = neighbours.get(id).filter((n) => index.has(n));
        key.set(id, seen.length ? seen.reduce((s, n) => s + index.get(n), 0) / seen.length : index.get(id));
      }
      layer.sort((a, b) => key.get(a) - key.get(b));
      layer.forEach((id, i) => index.set(id, i));
    }
  }

  // Positions {id: {x, y}} for nodes `ids` and edges `[src, dst]`, ranks left to right.
  function positions(ids, edges, options) {
    const { rankSep = 220, nodeSep = 46, columnSep = 170, sweeps = 2 } = options || {};
    const known = new Set(ids);
    const kept = edges.filter(([s, d]) => known.has(s) && known.has(d) && s !== d);
    const rank = ranks(ids, kept);
    const layers = [];
    for (const id of ids) (layers[rank.get(id)] = layers[rank.get(id)] || []).push(id);
    const dense = layers.filter(Boolean);
    const preds = new Map(ids.map((id) => [id, []]));
    const succs = new Map(ids.map((id) => [id, []]));
    for (const [s, d] of kept) { succs.get(s).push(d); preds.get(d).push(s); }
    const index = new Map();
    for (const layer of dense) layer.forEach((id, i) => index.set(id, i));
    for (let i = 0; i < sweeps; i++) {
      sweep(dense, preds, index);
      sweep([...dense].reverse(), succs, index);
    }
    // A rank taller than the graph is wide (a hub's thousand consumers) folds into columns,
    // so the drawing keeps a shape a screen can show.
    const maxRows = Math.max(12, Math.ceil(Math.sqrt(ids.length) * 1.5));
    const placed = {};
    let x = 0;
    for (const layer of dense) {
      const rows = Math.min(layer.length, maxRows);
      const top = -((rows - 1) * nodeSep) / 2;
      layer.forEach((id, i) => {
        placed[id] = { x: x + Math.floor(i / rows) * columnSep, y: top + (i % rows) * nodeSep };
      });
      x += Math.floor((layer.length - 1) / rows) * columnSep + rankSep;
    }
    return placed;
  }

  return { positions, ranks };
})();
