/* embedlab explorer: one page over the server's JSON API. No build step, no network beyond this server.
 * Every item text and metadata value is put in the page with textContent (never innerHTML), and the map's
 * hover box is our own element, so an item "<img src=x onerror=...>" is shown as text and runs nothing. */
'use strict';

const S = {
  key: sessionStorage.getItem('embedlab-key') || null,
  collections: [], current: null, method: 'umap', map: null, index: null, colours: null,
  results: [], clicked: null, selectedRows: [], compare: null, mapDrawn: false,
  firstDrawMs: null, lastSearchMs: null, searches: 0, pollToken: 0,
};
window.explorer = S;
const $ = (id) => document.getElementById(id);
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf',
  '#bcbd22', '#7f7f7f', '#aec7e8', '#ffbb78', '#98df8a', '#ff9896', '#c5b0d5', '#c49c94', '#f7b6d2', '#9edae5',
  '#dbdb8d', '#393b79'];
const OTHER = '#c8c8c8';
const MAX_TABLE_ROWS = 500;
const RESULT_CHARS = 280;  // the whole text is in the details of a clicked result
const MAX_DROP_BYTES = 20 * 1024 * 1024;

// ---- API ------------------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function request(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (S.key) headers.Authorization = 'Bearer ' + S.key;
  const response = await fetch(path, Object.assign({}, options, {headers}));
  if (response.status === 401) {
    const why = await errorText(response);
    askKey(why);
    throw new ApiError(401, why);
  }
  if (!response.ok) throw new ApiError(response.status, await errorText(response));
  return response;
}

async function errorText(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return body.error.message;
    if (body && body.detail) return typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail);
  } catch (e) { /* not JSON */ }
  return `HTTP ${response.status} ${response.statusText}`;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)};
  return (await request(path, options)).json();
}

const enc = encodeURIComponent;

function askKey(why) {
  $('keybox').hidden = false;
  $('keywhy').textContent = (S.key ? 'The key was refused: ' : 'This server needs an API key: ') + why + ' ';
  $('keyinput').focus();
}

function showError(message) {
  const box = $('message');
  box.textContent = message;
  box.hidden = !message;
}

function fail(error) {
  if (error instanceof ApiError && error.status === 401) return;  // the key banner says why
  showError(error.message || String(error));
}

// ---- small DOM helpers -------------------------------------------------------------------------------
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function metaText(metadata) {
  const shown = {};
  for (const [key, value] of Object.entries(metadata || {})) {
    if (typeof value === 'string' && value.startsWith('data:image/')) continue;
    shown[key] = value;
  }
  return Object.keys(shown).length ? JSON.stringify(shown) : '';
}

function thumbnailOf(metadata) {
  const value = metadata && metadata.thumbnail;
  if (typeof value === 'string' && /^data:image\/(jpeg|png|webp);base64,[A-Za-z0-9+/=]+$/.test(value)) {
    const img = el('img');
    img.src = value;
    img.alt = 'thumbnail';
    return img;
  }
  return null;
}

function fillTable(tbody, rows) {
  tbody.replaceChildren(...rows.map((cells) => {
    const tr = el('tr');
    cells.forEach((cell) => tr.appendChild(cell instanceof Node ? wrapCell(cell) : el('td', cell)));
    return tr;
  }));
}

function wrapCell(node) { const td = el('td'); td.appendChild(node); return td; }

// ---- routing -----------------------------------------------------------------------------------------
function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return {view: parts[0] || 'collections', args: parts.slice(1)};
}

async function route() {
  const {view, args} = parseHash();
  showError('');
  document.querySelectorAll('.view').forEach((v) => v.classList.toggle('on', v.id === 'view-' + view));
  document.querySelectorAll('#tabs a').forEach((a) => a.classList.toggle('on', a.dataset.view === view));
  try {
    if (!S.collections.length || view === 'collections') await loadCollections();
    if (view === 'map') {
      const name = args[0] || S.current || (S.collections[0] && S.collections[0].name);
      if (!name) { location.hash = '#/collections'; return; }
      if (args[1]) { S.method = args[1]; $('method').value = args[1]; }
      if (name !== S.current || !S.map || S.map.method !== S.method) await openMap(name);
    } else if (view === 'compare') {
      await openCompare(args);
    } else if (view === 'words') {
      await openWords();
    } else if (view === 'similarity') {
      await openSimilarity();
    }
  } catch (error) { fail(error); }
}

// ---- collections -------------------------------------------------------------------------------------
async function loadCollections() {
  const body = await api('/v1/collections');
  $('keybox').hidden = true;
  S.collections = body.data || [];
  const rows = S.collections.map((c) => {
    const open = el('a', 'explore');
    open.href = '#/map/' + enc(c.name);
    return [c.name, (c.items ?? '').toLocaleString(), c.model ?? '', c.dim ?? '', c.created ?? '', open];
  });
  fillTable(document.querySelector('#collections-table tbody'), rows);
  $('collections-empty').hidden = S.collections.length > 0;
}

// ---- the map -----------------------------------------------------------------------------------------
async function openMap(name) {
  S.current = name;
  S.map = null; S.mapDrawn = false; S.results = []; S.clicked = null;
  $('current').textContent = name;
  $('results').replaceChildren(); $('details').replaceChildren(); $('zeroshot').replaceChildren();
  $('selection').hidden = true;
  const token = ++S.pollToken;
  const started = performance.now();
  note('map-note', '');
  for (;;) {
    const response = await request(`/explorer/api/collections/${enc(name)}/map?method=${enc(S.method)}`)
      .catch((error) => error);
    if (token !== S.pollToken) return;
    if (response instanceof Error) {
      Plotly.purge($('map-plot'));
      Plotly.purge($('map-overlay'));
      $('map-status').textContent = '';
      note('map-note', 'The map could not be made: ' + response.message, true);
      if (response.status === 401) return;
      return;
    }
    const body = await response.json();
    if (response.status === 202) {
      $('map-status').textContent = `${body.stage}… ${Math.round(body.progress * 100)}% (${body.elapsed} s)`;
      await new Promise((resolve) => setTimeout(resolve, 400));
      continue;
    }
    S.map = body;
    break;
  }
  const M = S.map;
  S.index = new Map(M.ids.map((id, row) => [id, row]));
  $('dropzone').hidden = !M.images;
  const colour = $('colour');
  colour.replaceChildren(el('option', M.clusters ? 'cluster' : 'none'));
  colour.firstChild.value = '';
  M.columns.forEach((c) => { const o = el('option', c); o.value = c; colour.appendChild(o); });
  await drawMap();
  S.firstDrawMs = performance.now() - started;
  $('map-status').textContent = `${M.ids.length.toLocaleString()} points · ${M.method}` +
    (M.cached ? ' (cached)' : ` (${M.seconds} s)`);
}

function note(id, text, isError) {
  const box = $(id);
  box.textContent = text;
  box.hidden = !text;
  box.classList.toggle('error', !!isError);
}

function clusterColours(M) {
  if (!M.clusters) return {colours: '#1f77b4', legend: []};
  const colours = M.clusters.map((c) => (c < 0 ? OTHER : PALETTE[c % PALETTE.length]));
  return {colours, legend: []};
}

function columnColours(values) {
  const present = values.filter((v) => v !== null && v !== undefined);
  const numeric = present.length > 0 && present.every((v) => typeof v === 'number');
  const distinct = new Set(present);
  if (numeric && distinct.size > PALETTE.length) {
    let low = Infinity, high = -Infinity;  // no Math.min(...values): 100k arguments overflow the stack
    present.forEach((v) => { if (v < low) low = v; if (v > high) high = v; });
    return {numeric: true, colours: values.map((v) => (v === null ? low : v)), low, high};
  }
  const counts = new Map();
  present.forEach((v) => counts.set(String(v), (counts.get(String(v)) || 0) + 1));
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, PALETTE.length - 1).map((e) => e[0]);
  const colourOf = new Map(top.map((v, i) => [v, PALETTE[i]]));
  return {
    colours: values.map((v) => colourOf.get(String(v)) || OTHER),
    legend: top.map((v) => [v, colourOf.get(v)]),
  };
}

function clusterAnnotations(M) {
  if (!M.clusters || $('colour').value) return [];
  const groups = new Map();
  M.clusters.forEach((c, row) => {
    if (c < 0) return;
    if (!groups.has(c)) groups.set(c, {xs: [], ys: []});
    groups.get(c).xs.push(M.x[row]); groups.get(c).ys.push(M.y[row]);
  });
  const median = (values) => { const s = values.slice().sort((a, b) => a - b); return s[s.length >> 1]; };
  return [...groups.entries()].map(([c, g]) => ({
    x: median(g.xs), y: median(g.ys), showarrow: false,
    text: escapeForPlotly(M.cluster_names[String(c)] || `cluster ${c}`),
    font: {size: 12, color: '#111'}, bgcolor: 'rgba(255,255,255,.75)',
  }));
}

function escapeForPlotly(text) {  // plotly reads a few HTML-like tags in annotations: show them as text
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

async function drawMap() {
  const M = S.map;
  const n = M.ids.length;
  const column = $('colour').value;
  let colouring = clusterColours(M);
  if (column) {
    const body = await api(`/explorer/api/collections/${enc(M.collection)}/column?name=${enc(column)}`);
    colouring = columnColours(body.values);
  }
  S.colours = colouring;
  const size = n > 50000 ? 2.5 : n > 5000 ? 4 : 7;
  const marker = {size, color: colouring.colours, opacity: n > 50000 ? 0.7 : 0.85};
  if (colouring.numeric) Object.assign(marker, {colorscale: 'Viridis', cmin: colouring.low, cmax: colouring.high, showscale: true});
  const traces = [{type: 'scattergl', mode: 'markers', x: M.x, y: M.y, name: 'points', marker, hoverinfo: 'none'}];
  const layout = {
    margin: {l: 30, r: 10, t: 10, b: 30}, dragmode: currentDrag(), hovermode: 'closest', showlegend: false,
    xaxis: {zeroline: false, showgrid: false}, yaxis: {zeroline: false, showgrid: false},
    annotations: clusterAnnotations(M), uirevision: M.collection + M.method,
  };
  const plot = $('map-plot');
  await Plotly.react(plot, traces, layout, {responsive: true, displaylogo: false, scrollZoom: true});
  await drawOverlay();
  drawLegend(colouring.legend || []);
  if (!plot.dataset.wired) wireMap(plot);
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  S.mapDrawn = true;
  if (S.results.length) highlightResults(S.results, S.queryLabel);
  if (S.clicked !== null) drawNeighbours(S.clicked, S.neighbourRows || []);
}

// Results, the query, neighbours and their lines are drawn on a small SVG plot laid over the WebGL map,
// with the same axes: changing them redraws a few points, not the 100,000 of the map.
const OVERLAY = ['neighbour lines', 'neighbours', 'results', 'first result', 'query', 'clicked'];

async function drawOverlay() {
  const plot = $('map-plot'), L = plot._fullLayout, size = L._size;
  const empty = (name, extra) => Object.assign({type: 'scatter', mode: 'markers', x: [], y: [], name, hoverinfo: 'skip', cliponaxis: true}, extra);
  const traces = [
    empty('neighbour lines', {mode: 'lines', line: {color: '#d13438', width: 1.5}}),
    empty('neighbours', {marker: {size: 11, color: 'rgba(209,52,56,.35)', line: {color: '#d13438', width: 2}}}),
    empty('results', {marker: {size: 11, color: 'rgba(255,196,0,.9)', line: {color: '#222', width: 1}}}),
    empty('first result', {marker: {size: 20, color: 'rgba(0,0,0,0)', line: {color: '#f2a900', width: 4}}}),
    empty('query', {marker: {size: 20, symbol: 'star', color: '#d13438', line: {color: '#fff', width: 1}}}),
    empty('clicked', {marker: {size: 16, color: 'rgba(0,0,0,0)', line: {color: '#000', width: 3}}}),
  ];
  const layout = {
    width: L.width, height: L.height, showlegend: false, hovermode: false, dragmode: false,
    margin: {l: size.l, t: size.t, r: L.width - size.l - size.w, b: L.height - size.t - size.h, pad: 0},
    paper_bgcolor: 'rgba(0,0,0,0)', plot_bgcolor: 'rgba(0,0,0,0)',
    xaxis: {range: L.xaxis.range.slice(), visible: false, fixedrange: true},
    yaxis: {range: L.yaxis.range.slice(), visible: false, fixedrange: true},
  };
  await Plotly.react($('map-overlay'), traces, layout, {staticPlot: true, displayModeBar: false});
}

function syncOverlay() {
  const L = $('map-plot')._fullLayout;
  if (!L || !$('map-overlay')._fullLayout) return;
  const size = L._size;
  Plotly.relayout($('map-overlay'), {
    'xaxis.range': L.xaxis.range.slice(), 'yaxis.range': L.yaxis.range.slice(), width: L.width, height: L.height,
    margin: {l: size.l, t: size.t, r: L.width - size.l - size.w, b: L.height - size.t - size.h, pad: 0},
  });
}

function overlay(update) {  // {name: {x, y}}
  const names = Object.keys(update);
  return Plotly.restyle($('map-overlay'), {x: names.map((n) => update[n].x), y: names.map((n) => update[n].y)},
    names.map((n) => OVERLAY.indexOf(n)));
}

function drawLegend(entries) {
  let legend = $('legend');
  if (!legend) { legend = el('div'); legend.id = 'legend'; $('map-status').after(legend); }
  legend.replaceChildren(...entries.map(([value, colour]) => {
    const item = el('span', ' ' + value + '  ');
    const dot = el('span', '●'); dot.style.color = colour;
    item.prepend(dot);
    return item;
  }));
}

function currentDrag() {
  const on = document.querySelector('.modes button.on');
  return on ? on.dataset.drag : 'pan';
}

function wireMap(plot) {
  plot.dataset.wired = '1';
  plot.on('plotly_hover', (event) => {
    const point = event.points.find((p) => p.curveNumber === 0);
    if (!point) return;
    showHover(point.pointIndex, event.event);
  });
  plot.on('plotly_unhover', () => { $('hoverbox').hidden = true; });
  plot.on('plotly_click', (event) => {
    const point = event.points.find((p) => p.curveNumber === 0);
    if (point) clickRow(point.pointIndex).catch(fail);
  });
  plot.on('plotly_selected', (event) => {
    const rows = event ? event.points.filter((p) => p.curveNumber === 0).map((p) => p.pointIndex) : [];
    showSelection(rows);
  });
  plot.on('plotly_deselect', () => showSelection([]));
  plot.on('plotly_relayouting', syncOverlay);
  plot.on('plotly_relayout', syncOverlay);
  window.addEventListener('resize', () => setTimeout(syncOverlay, 50));
}

const thumbCache = new Map();

async function thumbnailUrl(collection, id) {
  const key = collection + '\u0000' + id;
  if (!thumbCache.has(key)) {
    thumbCache.set(key, request(`/explorer/api/collections/${enc(collection)}/thumbnail?id=${enc(id)}`)
      .then((r) => r.blob()).then((blob) => URL.createObjectURL(blob)).catch(() => null));
  }
  return thumbCache.get(key);
}

function showHover(row, mouse) {
  const M = S.map;
  const box = $('hoverbox');
  $('hovertext').textContent = `${M.ids[row]}\n${M.texts[row] || ''}`;
  const img = $('hoverimg');
  img.removeAttribute('src');
  if (M.images) {
    const id = M.ids[row];
    thumbnailUrl(M.collection, id).then((url) => { if (url && S.hoverId === id) img.src = url; });
  }
  S.hoverId = M.ids[row];
  box.hidden = false;
  if (mouse) {
    box.style.left = Math.min(mouse.clientX + 14, window.innerWidth - 380) + 'px';
    box.style.top = Math.min(mouse.clientY + 14, window.innerHeight - 160) + 'px';
  }
}

function rowsXY(rows) {
  return {x: rows.map((r) => S.map.x[r]), y: rows.map((r) => S.map.y[r])};
}

async function clickRow(row) {
  const M = S.map;
  const id = M.ids[row];
  S.clicked = row;
  const k = Math.max(1, Math.min(100, parseInt($('nk').value, 10) || 10));
  const [item, similar] = await Promise.all([
    api(`/v1/collections/${enc(M.collection)}/items/${enc(id)}`),
    api(`/v1/collections/${enc(M.collection)}/similar`, {id, k}),
  ]);
  const neighbours = (similar.data || []).filter((r) => S.index.has(r.id));
  S.neighbourRows = neighbours.map((r) => S.index.get(r.id));
  drawNeighbours(row, S.neighbourRows);
  const details = $('details');
  const text = item.text ?? (item.data && item.data.text) ?? '';
  const metadata = item.metadata || (item.data && item.data.metadata) || {};
  const list = el('ol', null, 'neighbours');
  neighbours.forEach((r) => {
    const li = el('li');
    li.append(el('strong', r.id), el('span', ` ${Number(r.score).toFixed(3)} `, 'score'), el('span', (r.text || '').slice(0, 140)));
    li.addEventListener('click', () => clickRow(S.index.get(r.id)).catch(fail));
    list.appendChild(li);
  });
  const parts = [el('h3', id), el('div', text, 'text'), el('div', metaText(metadata), 'meta')];
  const thumb = thumbnailOf(metadata);
  if (thumb) parts.splice(1, 0, thumb);
  details.replaceChildren(...parts, el('h4', `${neighbours.length} nearest neighbours (embedding space)`), list);
}

function drawNeighbours(row, rows) {
  const lines = {x: [], y: []};
  rows.forEach((r) => { lines.x.push(S.map.x[row], S.map.x[r], null); lines.y.push(S.map.y[row], S.map.y[r], null); });
  const near = rowsXY(rows), here = rowsXY([row]);
  overlay({'neighbour lines': lines, neighbours: near, clicked: here});
}

function showSelection(rows) {
  S.selectedRows = rows;
  $('selection').hidden = rows.length === 0;
  $('selection-count').textContent = `${rows.length.toLocaleString()} selected` +
    (rows.length > MAX_TABLE_ROWS ? ` (first ${MAX_TABLE_ROWS} shown; export has all)` : '');
  fillTable(document.querySelector('#selection-table tbody'),
    rows.slice(0, MAX_TABLE_ROWS).map((r) => [S.map.ids[r], S.map.texts[r] || '']));
}

function selectionRecords() {
  const M = S.map;
  return S.selectedRows.map((r) => {
    const record = {id: M.ids[r], text: M.texts[r] || '', x: M.x[r], y: M.y[r]};
    if (M.clusters) { record.cluster = M.clusters[r]; record.cluster_name = M.cluster_names[String(M.clusters[r])]; }
    return record;
  });
}

function csvCell(value) {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text) && typeof value === 'string') text = "'" + text;  // no formulas in spreadsheets
  return /[",\n\r]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], {type}));
  const a = el('a');
  a.href = url; a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function exportCsv() {
  const records = selectionRecords();
  const columns = records.length ? Object.keys(records[0]) : ['id', 'text'];
  const lines = [columns.join(','), ...records.map((r) => columns.map((c) => csvCell(r[c])).join(','))];
  download(`${S.current}-selection.csv`, lines.join('\r\n') + '\r\n', 'text/csv');
}

function exportJsonl() {
  download(`${S.current}-selection.jsonl`, selectionRecords().map((r) => JSON.stringify(r)).join('\n') + '\n',
    'application/x-ndjson');
}

// ---- search ------------------------------------------------------------------------------------------
async function search(event) {
  if (event) event.preventDefault();
  const started = performance.now();
  const query = $('query').value;
  const body = {
    query, mode: $('mode').value, k: Math.max(1, parseInt($('k').value, 10) || 10),
    where: $('where').value.trim() || null,
  };
  const found = await api(`/v1/collections/${enc(S.current)}/search`, body);
  S.lastFetchMs = performance.now() - started;
  await showResults(found.data || [], query);
  await new Promise((resolve) => requestAnimationFrame(resolve));
  S.lastSearchMs = performance.now() - started;
  S.searches += 1;
}

function showResults(results, label) {
  S.results = results;
  S.queryLabel = label;
  const list = $('results');
  list.replaceChildren(...results.map((r, i) => {
    const li = el('li', null, i === 0 ? 'first' : '');
    li.dataset.id = r.id;
    const thumb = thumbnailOf(r.metadata);
    if (thumb) li.appendChild(thumb);
    const text = r.text || '';
    li.append(el('strong', r.id), el('span', ` ${Number(r.score).toFixed(3)}`, 'score'),
      el('div', text.length > RESULT_CHARS ? text.slice(0, RESULT_CHARS) + '…' : text),
      el('div', metaText(r.metadata), 'meta'));
    li.addEventListener('click', () => { if (S.index.has(r.id)) clickRow(S.index.get(r.id)).catch(fail); });
    return li;
  }));
  if (!results.length) list.replaceChildren(el('li', 'no results'));
  if (S.mapDrawn) return highlightResults(results, label);
  return null;
}

function highlightResults(results, label) {
  const rows = results.map((r) => S.index.get(r.id)).filter((r) => r !== undefined);
  const all = rowsXY(rows);
  const first = rowsXY(rows.slice(0, 1));
  // the query sits at the score-weighted mean of its nearest results' positions
  const near = rows.slice(0, 10);
  const weights = results.slice(0, near.length).map((r) => Math.max(Number(r.score) || 0, 1e-6));
  const total = weights.reduce((a, b) => a + b, 0);
  const qx = near.length ? near.reduce((s, r, i) => s + weights[i] * S.map.x[r], 0) / total : null;
  const qy = near.length ? near.reduce((s, r, i) => s + weights[i] * S.map.y[r], 0) / total : null;
  S.queryPoint = near.length ? [qx, qy] : null;
  return overlay({results: all, 'first result': first, query: near.length ? {x: [qx], y: [qy]} : {x: [], y: []}});
}

async function searchImage(file) {
  if (!file) return;
  if (file.size > MAX_DROP_BYTES) { showError(`The image is ${file.size.toLocaleString()} bytes; the limit is ${MAX_DROP_BYTES.toLocaleString()}.`); return; }
  showError('');
  const k = Math.max(1, parseInt($('k').value, 10) || 10);
  const labels = $('labels').value.trim();
  const path = `/explorer/api/collections/${enc(S.current)}/image?k=${k}` + (labels ? `&labels=${enc(labels)}` : '');
  const response = await request(path, {method: 'POST', headers: {'Content-Type': 'application/octet-stream'}, body: file});
  const found = await response.json();
  showResults(found.data || [], file.name);
  const rows = Object.entries(found.labels || {}).sort((a, b) => b[1] - a[1]);
  const table = el('table', null, 'grid');
  rows.forEach(([label, p]) => { const tr = el('tr'); tr.append(el('td', label), el('td', (100 * p).toFixed(1) + ' %')); table.appendChild(tr); });
  $('zeroshot').replaceChildren(...(rows.length ? [el('strong', 'zero-shot labels'), table] : []));
}

// ---- compare -----------------------------------------------------------------------------------------
async function openCompare(args) {
  const names = S.collections.map((c) => c.name);
  for (const id of ['cmp-a', 'cmp-b']) {
    const select = $(id);
    if (select.options.length !== names.length) select.replaceChildren(...names.map((n) => { const o = el('option', n); o.value = n; return o; }));
  }
  if (args[0]) $('cmp-a').value = args[0];
  if (args[1]) $('cmp-b').value = args[1];
  if (args[2]) $('cmp-method').value = args[2];
  if (args[0] && args[1]) await runCompare();
}

async function runCompare() {
  const a = $('cmp-a').value, b = $('cmp-b').value, method = $('cmp-method').value;
  const k = Math.max(1, parseInt($('cmp-k').value, 10) || 10);
  const token = ++S.pollToken;
  note('cmp-note', '');
  S.compare = null;
  for (;;) {
    const response = await request(`/explorer/api/compare?a=${enc(a)}&b=${enc(b)}&method=${enc(method)}&k=${k}`)
      .catch((error) => error);
    if (token !== S.pollToken) return;
    if (response instanceof Error) {
      Plotly.purge($('cmp-plot-a')); Plotly.purge($('cmp-plot-b'));
      $('cmp-status').textContent = '';
      note('cmp-note', 'The comparison could not be made: ' + response.message, true);
      return;
    }
    const body = await response.json();
    if (response.status === 202) {
      $('cmp-status').textContent = `${body.stage}… ${Math.round(body.progress * 100)}% (${body.elapsed} s)`;
      await new Promise((resolve) => setTimeout(resolve, 400));
      continue;
    }
    S.compare = body;
    break;
  }
  await drawCompare();
}

async function drawCompare() {
  const C = S.compare;
  const n = C.ids.length;
  const size = n > 50000 ? 2.5 : n > 5000 ? 4 : 7;
  const sides = [['cmp-plot-a', C.xa, C.ya, C.a, false], ['cmp-plot-b', C.xb, C.yb, C.b, true]];
  for (const [id, x, y, title, bar] of sides) {
    const traces = [
      {type: 'scattergl', mode: 'markers', x, y, name: 'points', hoverinfo: 'none',
        marker: {size, color: C.jaccard, colorscale: [[0, '#d73027'], [0.5, '#fee08b'], [1, '#1a9850']], cmin: 0, cmax: 1, showscale: bar,
          colorbar: {title: {text: `kNN Jaccard (k=${C.k})`}}}},
      {type: 'scattergl', mode: 'markers', x: [], y: [], name: 'hovered', hoverinfo: 'skip',
        marker: {size: 18, color: 'rgba(0,0,0,0)', line: {color: '#000', width: 3}}},
    ];
    const layout = {margin: {l: 30, r: 10, t: 30, b: 30}, title: {text: escapeForPlotly(title), font: {size: 14}},
      hovermode: 'closest', dragmode: 'lasso', showlegend: false,
      xaxis: {zeroline: false, showgrid: false}, yaxis: {zeroline: false, showgrid: false}};
    await Plotly.react($(id), traces, layout, {responsive: true, displaylogo: false, scrollZoom: true});
  }
  wireCompare();
  $('cmp-status').textContent = `${n.toLocaleString()} shared items · mean Jaccard ${C.mean_jaccard}`;
  fillTable(document.querySelector('#cmp-moved tbody'), C.moved.map((m) => {
    const id = el('a', m.id); id.href = 'javascript:void 0';
    id.addEventListener('click', () => ringCompare(m.row));
    return [id, m.jaccard.toFixed(3), m.text];
  }));
}

function ringCompare(row) {
  const C = S.compare;
  Plotly.restyle($('cmp-plot-a'), {x: [[C.xa[row]]], y: [[C.ya[row]]]}, [1]);
  Plotly.restyle($('cmp-plot-b'), {x: [[C.xb[row]]], y: [[C.yb[row]]]}, [1]);
  $('cmp-hover').textContent = `${C.ids[row]}  Jaccard ${C.jaccard[row].toFixed(3)}\n${C.texts[row]}`;
  S.compareHover = row;
}

function wireCompare() {
  const plots = [$('cmp-plot-a'), $('cmp-plot-b')];
  plots.forEach((plot, side) => {
    if (plot.dataset.wired) return;
    plot.dataset.wired = '1';
    plot.on('plotly_hover', (event) => {
      const point = event.points.find((p) => p.curveNumber === 0);
      if (point) ringCompare(point.pointIndex);
    });
    plot.on('plotly_selected', (event) => {
      const rows = event ? event.points.filter((p) => p.curveNumber === 0).map((p) => p.pointIndex) : null;
      Plotly.restyle(plots[1 - side], {selectedpoints: [rows]}, [0]);
      $('cmp-hover').textContent = rows ? `${rows.length} selected on both maps` : '';
    });
  });
}

// ---- words -------------------------------------------------------------------------------------------
async function openWords() {
  const select = $('w-model');
  if (!select.options.length) {
    const models = await api('/explorer/api/words/models');
    select.replaceChildren(...models.data.map((m) => { const o = el('option', m); o.value = m; return o; }));
  }
}

async function words(op, extra) {
  const body = Object.assign({model: $('w-model').value, op, k: parseInt($('w-k').value, 10) || 10}, extra);
  showError('');
  const found = await api('/explorer/api/words', body);
  const unusual = (found.query || []).filter((q) => q.status !== 'in vocabulary');
  const notes = [...unusual.map((q) => `${q.word}: ${q.status}`), ...(found.notes || [])];
  note('w-notes', notes.join('\n'));
  if (op === 'oov') {
    fillTable(document.querySelector('#w-out tbody'), (found.words || []).map((w, i) => [i + 1, w.word, w.status]));
    const report = Object.assign({}, found); delete report.words;
    $('w-report').textContent = JSON.stringify(report, null, 2);
  } else {
    $('w-report').textContent = '';
    fillTable(document.querySelector('#w-out tbody'), found.neighbors.map((w, i) => [i + 1, w.word, w.score.toFixed(4)]));
  }
}

// ---- similarity --------------------------------------------------------------------------------------
async function openSimilarity() {
  const select = $('s-model');
  if (!select.options.length) {
    const models = await api('/explorer/api/models');
    select.replaceChildren(...models.data.map((m) => { const o = el('option', m); o.value = m; return o; }));
  }
}

async function similarity() {
  showError('');
  const texts = $('s-texts').value.split('\n').map((t) => t.trim()).filter(Boolean);
  const found = await api('/explorer/api/similarity', {model: $('s-model').value, texts});
  const labels = found.texts.map((_, i) => String(i + 1));
  await Plotly.react($('s-plot'), [{
    type: 'heatmap', z: found.matrix, x: labels, y: labels, zmin: -1, zmax: 1, colorscale: 'RdBu', reversescale: true,
    texttemplate: '%{z:.2f}', hovertemplate: '%{y} · %{x}: %{z:.3f}<extra></extra>',
  }], {margin: {l: 40, r: 10, t: 30, b: 40}, title: {text: escapeForPlotly('cosine similarity · ' + found.model)},
    yaxis: {autorange: 'reversed'}}, {displaylogo: false});
  $('s-legend').replaceChildren(...found.texts.map((t) => el('li', t)));
}

function go(hash) {  // a new hash routes through hashchange; the same hash again routes now
  if (location.hash === hash) route(); else location.hash = hash;
}

// ---- wiring ------------------------------------------------------------------------------------------
function wire() {
  window.addEventListener('hashchange', route);
  $('keyform').addEventListener('submit', (event) => {
    event.preventDefault();
    S.key = $('keyinput').value.trim() || null;
    if (S.key) sessionStorage.setItem('embedlab-key', S.key); else sessionStorage.removeItem('embedlab-key');
    $('keybox').hidden = true;
    S.collections = [];
    route();
  });
  $('search-form').addEventListener('submit', (event) => search(event).catch(fail));
  $('method').addEventListener('change', () => {
    S.method = $('method').value;
    go(`#/map/${enc(S.current)}/${enc(S.method)}`);
  });
  $('colour').addEventListener('change', () => drawMap().catch(fail));
  document.querySelectorAll('.modes button').forEach((button) => button.addEventListener('click', () => {
    document.querySelectorAll('.modes button').forEach((b) => b.classList.toggle('on', b === button));
    if (S.mapDrawn) Plotly.relayout($('map-plot'), {dragmode: button.dataset.drag});
  }));
  $('export-csv').addEventListener('click', exportCsv);
  $('export-jsonl').addEventListener('click', exportJsonl);
  const zone = $('dropzone');
  zone.addEventListener('dragover', (event) => { event.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault(); zone.classList.remove('over');
    searchImage(event.dataTransfer.files[0]).catch(fail);
  });
  $('imagefile').addEventListener('change', (event) => {
    const file = event.target.files[0];
    event.target.value = '';  // choosing the same file again searches again
    searchImage(file).catch(fail);
  });
  $('cmp-go').addEventListener('click', () => {
    go(`#/compare/${enc($('cmp-a').value)}/${enc($('cmp-b').value)}/${enc($('cmp-method').value)}`);
  });
  const submit = (id, op, fields) => $(id).addEventListener('submit', (event) => {
    event.preventDefault();
    words(op, fields()).catch(fail);
  });
  submit('w-neighbors', 'neighbors', () => ({word: $('w-word').value}));
  submit('w-analogy', 'analogy', () => ({a: $('w-a').value, b: $('w-b').value, c: $('w-c').value}));
  submit('w-arith', 'arithmetic', () => ({expression: $('w-expr').value}));
  submit('w-oov', 'oov', () => ({text: $('w-text').value}));
  $('s-go').addEventListener('click', () => similarity().catch(fail));
  route();
}

wire();
