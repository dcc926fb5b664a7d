// The driftd console: hash routes over the query API, redrawn every 5 seconds.
//   #/                  overview: entities, incidents, series by state, ingest
//   #/incidents/{id}    an incident with its signals' evidence
//   #/events/{id}       one drift event and its evidence
//   #/series?q=         series search     #/series/{id}  one series, live
//   #/pipelines         the running pipelines and their config
import { api, el, show, badge, ago, num, Unauthorized } from './api.js';
import { incidentPage, eventPage, seriesPage } from './evidence.js';
import { pipelinesPage } from './pipelines.js';

const REFRESH_MS = 5000;
const view = document.getElementById('view');
const live = document.getElementById('live');
let lastStatus = null;

async function overview() {
  const states = ['DRIFT_DETECTED', 'STABLE', 'INSUFFICIENT_DATA'];
  const [status, entities, incidents, ...counts] = await Promise.all([
    api('/v1/system/status'),
    api('/v1/entities'),
    api('/v1/incidents?limit=50'),
    ...states.map((s) => api(`/v1/series?state=${s}&limit=0`)),
  ]);
  let rate = '–';
  const now = Date.now() / 1000;
  if (lastStatus && now > lastStatus.t) rate = num((status.points_processed - lastStatus.points) / (now - lastStatus.t), 0);
  lastStatus = { points: status.points_processed, t: now };
  const card = (n, label, id) => el('div', { class: 'card', id }, el('div', { class: 'n' }, n), el('div', { class: 'l' }, label));
  const open = incidents.incidents.filter((i) => i.state !== 'resolved');
  const sorted = [...entities.entities].sort((a, b) => a.health - b.health || a.id.localeCompare(b.id));
  show(view,
    el('h1', {}, 'Overview'),
    el('div', { class: 'cards' },
      card(open.length, 'open incidents', 'open-incidents'),
      card(counts[0].total, 'series drifting'),
      card(counts[1].total, 'series stable'),
      card(counts[2].total, 'series learning'),
      card(rate, 'points per second'),
      card(num(status.points_refused, 0), 'points refused'),
    ),
    status.storage_error ? el('p', { class: 'error' }, `Storage: ${status.storage_error}`) : null,
    el('h2', {}, 'Incidents'),
    incidents.incidents.length
      ? el('div', { class: 'scroll' }, el('table', { id: 'incidents' },
        el('tr', {}, ...['entity', 'state', 'severity', 'summary', 'opened'].map((h) => el('th', {}, h))),
        incidents.incidents.map((i) => el('tr', {},
          el('td', {}, el('a', { href: `#/incidents/${i.id}` }, i.entity)),
          el('td', {}, badge(i.state)), el('td', {}, badge(i.severity)),
          el('td', { style: 'white-space: normal' }, i.summary), el('td', {}, ago(i.opened_at))))))
      : el('p', { class: 'muted' }, 'No incidents. Every entity agrees with its baseline.'),
    el('h2', {}, 'Entities'),
    sorted.length
      ? el('div', { class: 'scroll' }, el('table', { id: 'entities' },
        el('tr', {}, ...['entity', 'health', 'state', 'series', 'drifting', 'instances', 'incident'].map((h) => el('th', {}, h))),
        sorted.map((e) => el('tr', {},
          el('td', {}, el('a', { href: `#/series?service=${encodeURIComponent(e.id.split('/').pop())}` }, e.id)),
          el('td', { class: 'health' }, num(e.health, 0)), el('td', {}, badge(e.state)),
          el('td', {}, e.series), el('td', {}, e.drifting), el('td', {}, e.instances || '–'),
          el('td', {}, e.incident ? el('a', { href: `#/incidents/${e.incident.id}` }, e.incident.summary) : '–')))))
      : el('p', { class: 'muted' }, 'No series yet: point an OTLP exporter at driftd (gRPC 4317, HTTP 4318).'),
  );
}

async function search(params) {
  const q = params.get('q') || '';
  const service = params.get('service') || '';
  const query = new URLSearchParams({ limit: '100' });
  if (q) query.set('q', q);
  if (service) query.set('service', service);
  const found = await api(`/v1/series?${query}`);
  const input = el('input', { type: 'search', name: 'q', value: q, placeholder: 'metric, service or label value' });
  const form = el('form', {
    onsubmit: (e) => { e.preventDefault(); location.hash = `#/series?q=${encodeURIComponent(input.value)}`; },
  }, input, ' ', el('button', {}, 'Search'));
  show(view,
    el('h1', {}, service ? `Series of ${service}` : 'Series'),
    form,
    el('p', { class: 'muted' }, `${found.total} series${found.total > found.series.length ? `, the first ${found.series.length} shown` : ''}`),
    el('div', { class: 'scroll' }, el('table', { id: 'series' },
      el('tr', {}, ...['series', 'service', 'state', 'value', 'baseline', 'samples'].map((h) => el('th', {}, h))),
      found.series.map((s) => el('tr', {},
        el('td', {}, el('a', { href: `#/series/${s.series_id}` }, s.metric),
          ' ', el('span', { class: 'muted' }, Object.entries(s.labels).filter(([k]) => k !== 'service.name').map(([k, v]) => `${k}=${v}`).join(' '))),
        el('td', {}, s.labels['service.name'] || '–'), el('td', {}, badge(s.state)), el('td', {}, num(s.last_value)),
        el('td', {}, s.baseline ? `${num(s.baseline.mean)} ± ${num(s.baseline.stddev)}` : '–'), el('td', {}, s.sample_count))))),
  );
}

async function route() {
  const [path, query] = (location.hash.slice(1) || '/').split('?');
  const parts = path.split('/').filter(Boolean);
  const params = new URLSearchParams(query || '');
  if (parts[0] === 'incidents' && parts[1]) return incidentPage(view, decodeURIComponent(parts[1]));
  if (parts[0] === 'events' && parts[1]) return eventPage(view, decodeURIComponent(parts[1]));
  if (parts[0] === 'series' && parts[1]) return seriesPage(view, decodeURIComponent(parts[1]));
  if (parts[0] === 'series') return search(params);
  if (parts[0] === 'pipelines') return pipelinesPage(view);
  return overview();
}

async function render() {
  // Typing in a field is never interrupted by a redraw.
  if (document.activeElement && document.activeElement.tagName === 'INPUT') return;
  try {
    await route();
    live.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    show(view,el('p', { class: 'error' }, e instanceof Unauthorized ? e.message : `Cannot load this page: ${e.message}`));
  }
}

window.addEventListener('hashchange', () => { lastStatus = null; render(); });
setInterval(render, REFRESH_MS);
render();
