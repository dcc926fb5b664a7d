// One series' chart: its values (a bucket's min–max shaded), the baseline band
// (level ± 3 sd) the detector judged it against, and its drift events marked (a dashed
// line at a drift's onset, a solid one where it was raised, green where it ended).
import uPlot from './uPlot.esm.js';
import { el } from './api.js';

const BAND_SIGMAS = 3;

const COLUMNS = ['time', 'value', 'min', 'max', 'level', 'sd', 'z'];

// The evidence stored with an event (`snapshot`) joined with the live history: the
// snapshot's rows older than what the ring still holds, then the ring's rows.
export function joined(snapshot, live) {
  const empty = Object.fromEntries(COLUMNS.map((k) => [k, []]));
  const a = snapshot || empty;
  const b = live || empty;
  const first = b.time.length ? b.time[0] : Infinity;
  const out = Object.fromEntries(COLUMNS.map((k) => [k, []]));
  for (const [h, keep] of [[a, (t) => t < first], [b, () => true]]) {
    h.time.forEach((t, i) => {
      if (!keep(t)) return;
      for (const k of COLUMNS) out[k].push(h[k] && h[k][i] !== undefined ? h[k][i] : null);
    });
  }
  return out;
}

function markers(events) {
  return (u) => {
    const { ctx, bbox } = u;
    ctx.save();
    for (const e of events) {
      const lines = e.kind === 'drift_start'
        ? [[e.onset, '#c53030', [6, 4]], [e.timestamp, '#c53030', []]]
        : [[e.timestamp, '#1f8f4e', []]];
      for (const [at, color, dash] of lines) {
        const x = u.valToPos(Date.parse(at) / 1000, 'x', true);
        if (!(x >= bbox.left && x <= bbox.left + bbox.width)) continue;
        ctx.strokeStyle = color;
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.setLineDash(dash.map((d) => d * devicePixelRatio));
        ctx.beginPath();
        ctx.moveTo(x, bbox.top);
        ctx.lineTo(x, bbox.top + bbox.height);
        ctx.stroke();
      }
    }
    ctx.restore();
  };
}

// Draws `history` into a new element and returns it. `events` are marked; `range`
// ([from, to] in unix seconds) shares one time axis among several charts; the element
// states what it holds in data- attributes (what the browser test reads).
export function chart(history, events = [], { range, sync, height = 240 } = {}) {
  const box = el('div', { class: 'chart' });
  const upper = history.level.map((l, i) => (l === null || history.sd[i] === null ? null : l + BAND_SIGMAS * history.sd[i]));
  const lower = history.level.map((l, i) => (l === null || history.sd[i] === null ? null : l - BAND_SIGMAS * history.sd[i]));
  const start = events.find((e) => e.kind === 'drift_start');
  const onset = start ? Date.parse(start.onset) / 1000 : Infinity;
  box.dataset.points = history.time.length;
  box.dataset.pointsBefore = history.time.filter((t) => t < onset).length;
  box.dataset.pointsAfter = history.time.filter((t) => t >= onset).length;
  box.dataset.band = upper.filter((v) => v !== null).length;
  if (!history.time.length) {
    box.append(el('p', { class: 'muted' }, 'No history kept for this series yet.'));
    return box;
  }
  const z = history.z || history.time.map(() => null);
  const data = [history.time, history.value, history.min, history.max, upper, lower, history.level, z];
  const opts = {
    width: 600,
    height,
    cursor: sync ? { sync: { key: sync } } : {},
    scales: { x: { time: true, ...(range ? { range: () => range } : {}) }, z: { auto: true } },
    axes: [{}, {}, { scale: 'z', side: 1, label: 'z (σ)', grid: { show: false } }],
    series: [
      {},
      { label: 'value', stroke: '#2b6cb0', width: 1.5, points: { show: history.time.length < 60 } },
      { label: 'min', stroke: 'transparent', points: { show: false } },
      { label: 'max', stroke: 'transparent', points: { show: false } },
      { label: `baseline + ${BAND_SIGMAS}σ`, stroke: 'rgba(31,143,78,0.5)', dash: [4, 4], width: 1, points: { show: false } },
      { label: `baseline − ${BAND_SIGMAS}σ`, stroke: 'rgba(31,143,78,0.5)', dash: [4, 4], width: 1, points: { show: false } },
      { label: 'baseline', stroke: 'rgba(31,143,78,0.9)', width: 1, points: { show: false } },
      { label: 'z', scale: 'z', stroke: 'rgba(197,48,48,0.35)', width: 1, points: { show: false } },
    ],
    bands: [
      { series: [4, 5], fill: 'rgba(31,143,78,0.10)' },
      { series: [3, 2], fill: 'rgba(43,108,176,0.15)' },
    ],
    hooks: { draw: [markers(events)] },
  };
  const plot = new uPlot(opts, data, box);
  new ResizeObserver(() => {
    const w = box.clientWidth;
    if (w > 0 && Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height });
  }).observe(box);
  return box;
}

export const NOTE = `Blue: the value (shaded: a bucket's min–max). Green: the baseline and its ±${BAND_SIGMAS}σ band. Faint red, right axis: the score the detector judged (z, in baseline σ). Red dashed: where the drift began; red: where it was raised; green line: where it ended.`;
