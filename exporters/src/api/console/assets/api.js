// The query API as the console calls it, with the bearer token entered once (kept in
// this browser's localStorage), and a tiny DOM builder that never parses HTML.

const TOKEN_KEY = 'driftd.token';

export class Unauthorized extends Error {}

export async function api(path, options = {}) {
  const token = localStorage.getItem(TOKEN_KEY);
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    askForToken();
    throw new Unauthorized('this API needs a token: enter it at the top of the page');
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${path}: HTTP ${response.status}`);
  return body;
}

export function askForToken() {
  const form = document.getElementById('token');
  form.hidden = false;
  form.onsubmit = (e) => {
    e.preventDefault();
    localStorage.setItem(TOKEN_KEY, form.elements.token.value);
    form.hidden = true;
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  };
}

// el('a', {href: '#/'}, 'text', child...): attributes are set as properties or
// attributes, children are nodes or text (always text, never markup).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// Replaces what `view` shows with `nodes` (null, undefined and false left out).
export function show(view, ...nodes) {
  view.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
}

export function badge(text) {
  return el('span', { class: `badge ${text}` }, String(text).replace(/_/g, ' ').toLowerCase());
}

export function ago(rfc3339) {
  if (!rfc3339) return '';
  const s = (Date.now() - Date.parse(rfc3339)) / 1000;
  if (s < 0) return new Date(rfc3339).toLocaleString();
  if (s < 90) return `${Math.round(s)} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return new Date(rfc3339).toLocaleString();
}

export function num(x, digits = 3) {
  if (x === undefined || x === null || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(2);
  return Number(x.toPrecision(digits + 2)).toLocaleString(undefined, { maximumFractionDigits: digits });
}

// "100 → 150 (+50, +50%)"
export function change(before, after, percent) {
  const delta = after - before;
  const sign = delta >= 0 ? '+' : '';
  const pct = Number.isFinite(percent) ? `, ${sign}${num(percent, 1)}%` : '';
  return el('span', { class: delta >= 0 ? 'up' : 'down' },
    `${num(before)} → ${num(after)} (${sign}${num(delta)}${pct})`);
}

export function seriesName(metric, labels) {
  const shown = Object.entries(labels || {})
    .filter(([k]) => k !== 'service.name')
    .map(([k, v]) => `${k}="${v}"`);
  return shown.length ? `${metric}{${shown.join(', ')}}` : metric;
}
