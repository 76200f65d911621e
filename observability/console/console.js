// The ormdb web console: plain JavaScript, no build step. It reads the
// server's JSON API (/api/schema, /api/query, /api/changes) and /metrics;
// it never writes. docs/reference/observability.md describes it.
'use strict';

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

// ---- The API, with the key when one is set ----

function headers() {
  const key = sessionStorage.getItem('ormdb-key');
  return key ? { Authorization: 'Bearer ' + key } : {};
}

async function api(path, body) {
  const opts = { headers: headers() };
  if (body !== undefined) {
    opts.method = 'POST';
    opts.body = JSON.stringify(body);
    opts.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(path, opts);
  const text = await res.text();
  if (path === '/metrics') {
    if (!res.ok) throw new Error(res.status + ' ' + text);
    return text;
  }
  let json;
  try { json = JSON.parse(text); } catch (e) { throw new Error(res.status + ' ' + text); }
  if (json && json.error) throw new Error(json.error.code + ': ' + json.error.message);
  return json;
}

// ---- Query: the result as a tree, the plan as a tree ----

function fmt(v) {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

function isObjectList(v) {
  return Array.isArray(v) && v.every((x) => x && typeof x === 'object' && !Array.isArray(x));
}

function objectNode(obj, entity, isRoot) {
  const scalars = [];
  const children = [];
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'id') continue;
    if (k.endsWith('@next')) continue;
    if (isObjectList(v) && v.length > 0 || (v && typeof v === 'object' && !Array.isArray(v))) {
      children.push([k, v]);
    } else if (isObjectList(v)) {
      children.push([k, v]);
    } else {
      scalars.push(el('span', { class: 'field' }, ' ' + k + ': '), el('span', { text: fmt(v) }));
    }
  }
  const li = el('li', { class: isRoot ? 'result-row' : 'result-child' },
    el('span', { class: 'entity-name', text: (entity || '') + ' #' + fmt(obj.id) }), ...scalars);
  if (children.length) {
    const ul = el('ul');
    for (const [k, v] of children) {
      const list = Array.isArray(v) ? v : [v];
      const more = obj[k + '@next'] ? ', more follow' : '';
      const relLi = el('li', {}, el('span', { class: 'rel', text: k + ' (' + list.length + more + ')' }));
      const inner = el('ul');
      for (const child of list) inner.append(objectNode(child, '', false));
      relLi.append(inner);
      ul.append(relLi);
    }
    li.append(ul);
  }
  return li;
}

function renderResult(result, rootEntity) {
  const tree = $('result-tree');
  tree.replaceChildren();
  const ul = el('ul');
  for (const obj of result.data || []) ul.append(objectNode(obj, rootEntity, true));
  tree.append(ul);
  const s = result.stats || {};
  $('result-summary').textContent = (result.data || []).length + ' rows · ' + (s.entities || 0) +
    ' entities, ' + (s.edges || 0) + ' edges, version ' + result.version +
    (s.truncated ? ' · truncated at ' + s.truncated_at : '') + (result.next ? ' · more pages' : '');
}

// What a step took of the fetch's budget: its rows count toward the entities
// (and, below the root, the edges: one per row); an aggregate's or a
// semi-join's reads toward the scanned rows.
function stepBudget(s, a, budget) {
  if (!a || !a.run || !budget) return '';
  const share = (n, k) => {
    if (!(budget[k] > 0)) return null;
    const pct = 100 * n / budget[k];
    return k + ' ' + (pct > 0 && pct < 0.1 ? '<0.1' : pct.toFixed(1)) + '%';
  };
  let parts;
  if (s.operation.startsWith('aggregate') || s.operation.startsWith('semi-join')) {
    parts = [share(a.reads, 'scanned_rows')];
  } else if (s.operation.startsWith('policy')) {
    parts = [];
  } else {
    parts = [share(a.rows, 'entities'), s.depth > 0 ? share(a.rows, 'edges') : null];
  }
  parts = parts.filter((x) => x);
  return parts.length ? 'budget ' + parts.join(', ') : '';
}

function renderPlan(plan) {
  const tree = $('plan-tree');
  tree.replaceChildren();
  const steps = plan.steps || [];
  const total = plan.time_ms || steps.reduce((a, s) => a + ((s.actual && s.actual.time_ms) || 0), 0);
  let slowest = -1;
  steps.forEach((s, i) => {
    const t = (s.actual && s.actual.time_ms) || 0;
    if (slowest < 0 || t > ((steps[slowest].actual && steps[slowest].actual.time_ms) || 0)) slowest = i;
  });
  // Steps nest by depth: each include under the step above it with a smaller depth.
  const root = el('ul');
  const stack = [{ depth: -1, ul: root }];
  steps.forEach((s, i) => {
    while (stack.length > 1 && stack[stack.length - 1].depth >= s.depth) stack.pop();
    const a = s.actual;
    const t = (a && a.time_ms) || 0;
    const share = total > 0 ? t / total : 0;
    const slow = steps.length > 1 && i === slowest && share >= 0.3;
    const est = Math.round(s.estimated_rows);
    const off = a && a.run && (a.rows + 1) / (est + 1) > 10 || a && a.run && (est + 1) / (a.rows + 1) > 10;
    const node = el('div', { class: 'plan-node' + (slow ? ' slow' : ''), 'data-step': s.step },
      el('div', { class: 'bar', style: 'width:' + (100 * share).toFixed(1) + '%' }),
      el('div', {}, el('span', { class: 'op', text: s.path }), ' ',
        el('span', { text: s.operation + (s.index ? ' on ' + s.index + (s.direction === 'backward' ? ' (backward)' : '') : '') + (s.sort ? ', then sort' : '') })),
      el('div', { class: 'rows' }, 'rows: estimated ' + est + ' · actual ',
        el('span', { class: off ? 'off' : '', text: a ? (a.run ? String(a.rows) : 'not run') : '-' }),
        a ? ' · reads ' + a.reads + ' · ' + a.time_ms.toFixed(3) + ' ms' + (total > 0 ? ' (' + (100 * share).toFixed(0) + '%)' : '') : ''),
      el('div', { class: 'step-budget', text: stepBudget(s, a, plan.budget) }),
      el('div', { class: 'why', text: s.reason }));
    const li = el('li', {}, node);
    const sub = el('ul');
    li.append(sub);
    stack[stack.length - 1].ul.append(li);
    stack.push({ depth: s.depth, ul: sub });
  });
  tree.append(root);
  $('plan-summary').textContent = steps.length + ' steps · plan cache ' + (plan.plan_cache || '') +
    (total ? ' · ' + total.toFixed(3) + ' ms' : '');
  const budget = $('budget');
  budget.replaceChildren();
  const used = plan.budget_used || {};
  for (const k of ['entities', 'edges', 'bytes', 'scanned_rows']) {
    if (!(k in (plan.budget || {})) || !(k in used)) continue;
    const limit = plan.budget[k];
    const pct = limit > 0 ? Math.min(100, 100 * used[k] / limit) : 0;
    budget.append(el('div', { class: 'budget-line' },
      el('span', { text: 'budget ' + k + ' ' + used[k] + ' / ' + limit }),
      el('div', { class: 'meter' }, el('div', { style: 'width:' + Math.max(pct, used[k] > 0 ? 1 : 0) + '%' }))));
  }
}

async function runQuery() {
  const query = $('query').value.trim();
  if (!query) return;
  let params = {};
  const p = $('params').value.trim();
  $('query-error').hidden = true;
  try {
    if (p) params = JSON.parse(p);
    const out = await api('/api/query', { query, params });
    const root = out.plan && out.plan.steps && out.plan.steps.length ? out.plan.steps[0].path : '';
    renderResult(out.result, root);
    if (out.plan) renderPlan(out.plan); else $('plan-tree').textContent = out.plan_error || '';
    const h = new URLSearchParams({ query });
    if (p) h.set('params', p);
    history.replaceState(null, '', '#' + h.toString());
  } catch (e) {
    $('query-error').textContent = String(e.message || e);
    $('query-error').hidden = false;
  }
}

// ---- Schema: entities as boxes, references and relations as lines ----

async function loadSchema() {
  let schema;
  try { schema = await api('/api/schema'); } catch (e) {
    $('schema-diagram').textContent = String(e.message || e);
    return;
  }
  $('schema-version').textContent = 'version ' + schema.version;
  const entities = schema.entities || [];
  const names = new Set(entities.map((e) => e.name));
  const cols = Math.max(1, Math.ceil(Math.sqrt(entities.length)));
  const W = 190, LINE = 14, GAP_X = 60, GAP_Y = 40;
  const boxes = {};
  const heights = entities.map((e) => 24 + LINE * (e.fields.length + (e.relations || []).length) + 6);
  const rowH = [];
  entities.forEach((e, i) => { const r = Math.floor(i / cols); rowH[r] = Math.max(rowH[r] || 0, heights[i]); });
  let y0 = 10;
  const rowY = rowH.map((h) => { const y = y0; y0 += h + GAP_Y; return y; });
  const width = cols * (W + GAP_X) + 10, height = y0;
  const s = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, id: 'schema-svg' });
  const links = svg('g');
  s.append(links);
  entities.forEach((e, i) => {
    const x = 10 + (i % cols) * (W + GAP_X), y = rowY[Math.floor(i / cols)];
    boxes[e.name] = { x, y, w: W, h: heights[i] };
    const g = svg('g', { class: 'entity', 'data-entity': e.name });
    g.append(svg('rect', { x, y, width: W, height: heights[i], rx: 4 }));
    g.append(svg('text', { x: x + 8, y: y + 16, class: 'title' }, e.name));
    let ly = y + 16 + LINE;
    for (const f of e.fields) {
      g.append(svg('text', { x: x + 8, y: ly }, f.name + ': ' + f.type + (f.optional ? '?' : '') + (f.unique ? ' unique' : f.index ? ' index' : '')));
      ly += LINE;
    }
    for (const r of e.relations || []) {
      g.append(svg('text', { x: x + 8, y: ly, class: 'link-label' }, r.name + ': [' + r.target + ']'));
      ly += LINE;
    }
    s.append(g);
  });
  const edge = (from, to, label) => {
    const a = boxes[from], b = boxes[to];
    if (!a || !b) return;
    const ax = a.x + a.w / 2, ay = a.y + a.h / 2, bx = b.x + b.w / 2, by = b.y + b.h / 2;
    const p = from === to
      ? `M ${a.x + a.w} ${ay} c 40 -30 40 30 0 20`
      : `M ${ax} ${ay} Q ${(ax + bx) / 2 + (by - ay) * 0.15} ${(ay + by) / 2 - (bx - ax) * 0.15} ${bx} ${by}`;
    links.append(svg('path', { d: p, class: 'link' }));
    links.append(svg('text', { x: (ax + bx) / 2, y: (ay + by) / 2 - 3, class: 'link-label' }, label));
  };
  for (const e of entities) {
    for (const f of e.fields) if (f.kind === 'reference' && names.has(f.type)) edge(e.name, f.type, f.name);
    for (const r of e.relations || []) if (r.kind === 'many' && names.has(r.target)) edge(e.name, r.target, r.name);
  }
  $('schema-diagram').replaceChildren(s);
}

// ---- The live change stream ----

let changeToken = null;

async function pollChanges() {
  try {
    const out = await api('/api/changes' + (changeToken === null ? '' : '?from=' + changeToken));
    changeToken = out.token;
    $('changes-token').textContent = 'after version ' + changeToken;
    const list = $('changes');
    for (const ev of out.events) {
      const what = ev.relation ? ev.relation + ' ' + ev.from + ' → ' + ev.to
        : ev.entity ? ev.entity + ' #' + ev.id + (ev.changed ? ' (' + ev.changed.join(', ') + ')' : '') : '';
      list.prepend(el('li', { class: 'change' }, 'v' + ev.version + ' ',
        el('span', { class: 'op-' + ev.op, text: ev.op }), ' ' + what));
    }
    while (list.children.length > 200) list.lastChild.remove();
  } catch (e) { /* shown by the status line */ }
  setTimeout(pollChanges, 1000);
}

// ---- Metrics: small charts of the last two minutes ----

function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/);
    if (!m) continue;
    out[m[1] + (m[2] || '')] = parseFloat(m[3]);
  }
  return out;
}

function sum(metrics, prefix, filter) {
  let total = 0;
  for (const [k, v] of Object.entries(metrics)) {
    if ((k === prefix || k.startsWith(prefix + '{')) && (!filter || k.includes(filter))) total += v;
  }
  return total;
}

const CHARTS = [
  { id: 'requests', label: 'requests/s', rate: (m) => sum(m, 'ormdb_requests_total') },
  { id: 'errors', label: 'errors/s', rate: (m) => sum(m, 'ormdb_requests_total') - sum(m, 'ormdb_requests_total', 'outcome="ok"') },
  { id: 'latency', label: 'mean request ms', value: (m, p) => {
    if (!p) return 0;
    const n = sum(m, 'ormdb_request_duration_seconds_count') - sum(p, 'ormdb_request_duration_seconds_count');
    const s = sum(m, 'ormdb_request_duration_seconds_sum') - sum(p, 'ormdb_request_duration_seconds_sum');
    return n > 0 ? 1000 * s / n : 0;
  } },
  { id: 'entities', label: 'fetched entities/s', rate: (m) => sum(m, 'ormdb_fetch_entities_total') },
  { id: 'commits', label: 'commits/s', rate: (m) => sum(m, 'ormdb_commits_total') },
  { id: 'cache', label: 'plan cache hit %', value: (m) => {
    const h = sum(m, 'ormdb_plan_cache_hits_total'), x = sum(m, 'ormdb_plan_cache_misses_total');
    return h + x > 0 ? 100 * h / (h + x) : 0;
  } },
  { id: 'map', label: 'map used MiB', value: (m) => sum(m, 'ormdb_map_used_bytes') / 1048576 },
  { id: 'connections', label: 'connections', value: (m) => sum(m, 'ormdb_connections') },
];
const history_ = Object.fromEntries(CHARTS.map((c) => [c.id, []]));
let previous = null, previousTime = 0;

function drawCharts() {
  const box = $('metrics');
  if (!box.children.length) {
    for (const c of CHARTS) {
      box.append(el('div', { class: 'chart', id: 'chart-' + c.id },
        el('div', { class: 'label' }, el('span', { text: c.label }), el('span', { class: 'value' })),
        svg('svg', { viewBox: '0 0 120 40', preserveAspectRatio: 'none' })));
    }
  }
  for (const c of CHARTS) {
    const points = history_[c.id];
    const chart = $('chart-' + c.id);
    const last = points.length ? points[points.length - 1] : 0;
    chart.querySelector('.value').textContent = last >= 100 ? last.toFixed(0) : last.toFixed(2);
    const max = Math.max(1e-9, ...points);
    const line = points.map((v, i) => (i * 120 / 59).toFixed(1) + ',' + (38 - 36 * v / max).toFixed(1)).join(' ');
    const s = chart.querySelector('svg');
    s.replaceChildren(svg('polyline', { points: line }));
  }
}

async function pollMetrics() {
  try {
    const m = parseMetrics(await api('/metrics'));
    const now = Date.now() / 1000;
    for (const c of CHARTS) {
      let v;
      if (c.rate) v = previous ? Math.max(0, (c.rate(m) - c.rate(previous)) / (now - previousTime)) : 0;
      else v = c.value(m, previous);
      history_[c.id].push(v);
      if (history_[c.id].length > 60) history_[c.id].shift();
    }
    previous = m;
    previousTime = now;
    drawCharts();
    $('status').textContent = 'connected · version ' + sum(m, 'ormdb_current_version') +
      ' · ' + sum(m, 'ormdb_connections') + ' connections';
  } catch (e) {
    $('status').textContent = 'not connected: ' + (e.message || e);
  }
  setTimeout(pollMetrics, 2000);
}

// ---- Start ----

function start() {
  const key = $('key');
  key.value = sessionStorage.getItem('ormdb-key') || '';
  key.addEventListener('change', () => {
    if (key.value) sessionStorage.setItem('ormdb-key', key.value); else sessionStorage.removeItem('ormdb-key');
    loadSchema();
  });
  $('run').addEventListener('click', runQuery);
  $('query').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) runQuery(); });
  // A link to a query: #query=TEXT[&params=JSON] fills the box and runs it.
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.get('query')) {
    $('query').value = h.get('query');
    $('params').value = h.get('params') || '';
    runQuery();
  }
  loadSchema();
  pollChanges();
  pollMetrics();
}

start();
