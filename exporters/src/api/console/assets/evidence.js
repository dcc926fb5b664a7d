// The pages that show the evidence: an incident with its member signals side by side
// on one time axis, one event, and one series with its live chart and state history.
import { api, el, show, badge, num, change, seriesName } from './api.js';
import { chart, joined, NOTE } from './chart.js';

// An event with its snapshot, joined with what its series' ring holds now (absent when
// the series is gone: the snapshot alone is the evidence then).
async function evidenceOf(id) {
  const event = await api(`/v1/events/${encodeURIComponent(id)}`);
  const live = await api(`/v1/series/${event.series_id}/history`).catch(() => null);
  return { event, history: joined(event.snapshot, live && live.history), live };
}

function eventFacts(e) {
  const s = e.scores || {};
  return el('div', { class: 'facts' },
    el('span', {}, 'detector ', el('b', {}, e.detector)),
    e.severity && el('span', {}, 'severity ', badge(e.severity)),
    el('span', {}, 'began ', el('b', {}, new Date(e.onset).toLocaleString())),
    el('span', {}, 'raised ', el('b', {}, new Date(e.timestamp).toLocaleString())),
    el('span', {}, 'baseline ', el('b', {}, `${num(e.baseline.mean)} ± ${num(e.baseline.stddev)}`), ` (${e.baseline.samples} samples)`),
    el('span', {}, 'since ', change(e.baseline.mean, e.recent.mean, s.change_percent)),
  );
}

function scoresTable(e) {
  const rows = Object.entries(e.scores || {}).map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, num(v))));
  return el('div', { class: 'scroll' }, el('table', {}, el('tr', {}, el('th', {}, 'score'), el('th', {}, 'value')), rows));
}

export async function incidentPage(view, id) {
  const incident = await api(`/v1/incidents/${encodeURIComponent(id)}`);
  const { events } = await api(`/v1/events?incident=${encodeURIComponent(id)}&limit=100`);
  const starts = events.filter((e) => e.kind === 'drift_start').reverse();
  const evidence = await Promise.all(starts.map((e) => evidenceOf(e.id)));
  // One time axis for every member: from the earliest sample shown to the latest.
  const times = evidence.flatMap((x) => x.history.time);
  const range = times.length ? [Math.min(...times), Math.max(...times)] : undefined;
  const ack = el('button', {
    onclick: async () => { await api(`/v1/incidents/${encodeURIComponent(id)}/ack`, { method: 'POST' }); location.reload(); },
  }, 'Acknowledge');
  const members = incident.members.map((m) => el('tr', {},
    el('td', {}, m.signal), el('td', {}, m.series.join(', ')), el('td', {}, badge(m.severity)), el('td', {}, m.detector),
    el('td', {}, change(m.before, m.after, m.change_percent)), el('td', {}, new Date(m.onset).toLocaleTimeString()),
    el('td', {}, m.instances.join(', ') || '–')));
  show(view,
    el('h1', {}, `Incident on ${incident.entity} `, badge(incident.state)),
    el('p', { class: 'summary', id: 'incident-summary' }, incident.summary),
    el('div', { class: 'facts' },
      el('span', {}, 'severity ', badge(incident.severity)),
      el('span', {}, 'opened ', el('b', {}, new Date(incident.opened_at).toLocaleString())),
      incident.resolved_at && el('span', {}, 'resolved ', el('b', {}, new Date(incident.resolved_at).toLocaleString())),
      el('span', {}, 'id ', el('b', {}, incident.id)),
      incident.state === 'open' && ack),
    el('h2', {}, 'Signals'),
    el('div', { class: 'scroll' }, el('table', {},
      el('tr', {}, ...['signal', 'series', 'severity', 'detector', 'before → after', 'began', 'instances'].map((h) => el('th', {}, h))),
      members)),
    el('h2', {}, 'Evidence'),
    el('p', { class: 'legend-note' }, NOTE),
    evidence.length ? null : el('p', { class: 'muted' }, 'No drift event of this incident is stored (its events may have been pruned).'),
    ...evidence.map(({ event, history, live }) => el('div', { class: 'panel' },
      el('h3', {}, el('a', { href: `#/events/${event.id}` }, seriesName(event.series.metric, event.series.labels))),
      eventFacts(event),
      chart(history, (live && live.events) || [event], { range, sync: 'incident' }))),
  );
}

export async function eventPage(view, id) {
  const { event, history, live } = await evidenceOf(id);
  const marks = (live && live.events && live.events.length) ? live.events : [event];
  show(view,
    el('h1', {}, `${event.kind.replace('_', ' ')} on `, el('a', { href: `#/series/${event.series_id}` }, seriesName(event.series.metric, event.series.labels))),
    eventFacts(event),
    event.incident && el('p', {}, 'Part of ', el('a', { href: `#/incidents/${event.incident}` }, `incident ${event.incident}`)),
    el('p', { class: 'legend-note' }, NOTE),
    el('div', { class: 'panel' }, chart(history, marks)),
    el('h2', {}, 'Why: the detector\'s scores when it fired'),
    scoresTable(event),
  );
}

export async function seriesPage(view, id) {
  const h = await api(`/v1/series/${encodeURIComponent(id)}/history`);
  const rows = h.events.map((e) => el('tr', {},
    el('td', {}, el('a', { href: `#/events/${e.id}` }, e.kind.replace('_', ' '))),
    el('td', {}, new Date(e.timestamp).toLocaleString()), el('td', {}, e.detector),
    el('td', {}, e.severity ? badge(e.severity) : (e.reason || '')),
    el('td', {}, change(e.baseline.mean, e.recent.mean, (e.scores || {}).change_percent))));
  show(view,
    el('h1', {}, seriesName(h.metric, h.labels), ' ', badge(h.state)),
    el('div', { class: 'facts' },
      el('span', {}, 'service ', el('b', {}, h.labels['service.name'] || '–')),
      el('span', {}, 'series id ', el('b', {}, h.series_id)),
      h.kept ? null : el('span', {}, 'no history is kept for this series (the processor\'s history.series cap)')),
    el('p', { class: 'legend-note' }, NOTE),
    el('div', { class: 'panel' }, chart(h.history, h.events)),
    el('h2', {}, 'State history'),
    rows.length
      ? el('div', { class: 'scroll' }, el('table', {}, el('tr', {}, ...['event', 'at', 'detector', 'severity / reason', 'change'].map((x) => el('th', {}, x))), rows))
      : el('p', { class: 'muted' }, 'No drift events while its history was kept.'),
  );
}
