// The running pipelines (GET /debug/pipelines): each component with its own telemetry,
// and the effective config, secrets redacted.
import { api, el, show, num } from './api.js';

function component(role, c) {
  const rows = c.telemetry.map((s) => el('tr', {}, el('td', {}, s.metric), el('td', {}, num(s.value))));
  return el('div', { class: 'panel' },
    el('h3', {}, `${role} ${c.id}`),
    rows.length
      ? el('div', { class: 'scroll' }, el('table', {}, rows))
      : el('p', { class: 'muted' }, 'No telemetry recorded for it yet.'));
}

export async function pipelinesPage(view) {
  const p = await api('/debug/pipelines');
  show(view,
    el('h1', {}, 'Pipelines'),
    p.pipelines.map((pipe) => el('section', { class: 'pipeline' },
      el('h2', {}, pipe.name, ' ', el('span', { class: 'muted' },
        [...pipe.receivers, ...pipe.processors, ...pipe.exporters].map((c) => c.id).join(' → '))),
      pipe.receivers.map((c) => component('receiver', c)),
      pipe.processors.map((c) => component('processor', c)),
      pipe.exporters.map((c) => component('exporter', c)))),
    el('h2', {}, 'Effective config'),
    el('pre', { id: 'config' }, p.config),
  );
}
