// A port's observed usage on one time axis: the registry's assignment changes in the range as markers on top, the
// hosts per process below (one line per top process, "other" grey, the port's total thin). Moving the mouse over the
// plot (or the arrow keys once it has focus) shows the bucket's date and every series' numbers in a tooltip.
import { h, s, dateText, transportText } from '../dom.js';
import { versionLabel, versionStatus, versionSpans } from './timeline.js';
import { dayNumber, dayText, bucketText, seriesName, pointText, numberText } from './usage-text.js';

const WIDTH = 960;
const LEFT = 64;
const RIGHT = 16;
const LANE = 22;
const PLOT = 220;
const COLOURS = ['#2f6fb3', '#d1495b', '#2a9d8f', '#e09f3e', '#8a63d2', '#3d8b37', '#c2185b', '#5d4037'];

/** Round steps (1, 2, 5 × 10^k) for about four grid lines up to max. */
function ticks(max) {
  const rough = Math.max(max, 1) / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((v) => v >= rough) ?? rough;
  const out = [];
  for (let v = 0; v <= max + step / 2 && out.length < 8; v += step) out.push(v);
  if (out.length < 2) out.push(step);
  return out;
}

function colourOf(series, index) {
  if (series.total) return '#1b1f24';
  if (series.other) return '#9aa3ab';
  return COLOURS[index % COLOURS.length];
}

/** The changes of each transport's assignment whose first edition falls in [from, to]. */
function markers(timelines, from, to) {
  const out = [];
  for (const timeline of timelines) {
    for (const span of versionSpans(timeline, 0)) {
      const day = dayNumber(dateText(span.version.from?.effectiveDate));
      if (Number.isNaN(day) || day < from || day > to) continue;
      out.push({ timeline, version: span.version, day });
    }
  }
  return out;
}

/**
 * @param usage GetUsageHistoryResponse (JSON)
 * @param timelines GetTimelineResponse.timelines
 * @returns { element, legend }
 */
export function usageChart(port, usage, timelines) {
  const from = dayNumber(usage.from);
  const to = dayNumber(usage.to);
  const days = to - from + 1;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (day) => LEFT + ((Math.min(Math.max(day, from), to + 1) - from) / days) * plotWidth;
  const lanes = timelines.map((t) => t.transport);
  const plotTop = 28 + lanes.length * LANE + 20;
  const height = plotTop + PLOT + 24;
  const series = (usage.series ?? []).map((entry, i) => ({ ...entry, colour: colourOf(entry, i) }));
  const buckets = (usage.reportingHosts ?? []).map((p, i, all) => ({
    start: p.start, first: Math.max(dayNumber(p.start), from), end: i + 1 < all.length ? dayNumber(all[i + 1].start) : to + 1, index: i,
  }));
  const max = Math.max(1, ...series.flatMap((entry) => (entry.points ?? []).map((p) => p.hosts ?? 0)));
  const grid = ticks(max);
  const top = grid.at(-1);
  const y = (hosts) => plotTop + PLOT - (hosts / top) * PLOT;

  const svg = s('svg', {
    class: 'usage', viewBox: `0 0 ${WIDTH} ${height}`, role: 'group', 'data-from': usage.from, 'data-to': usage.to,
    'aria-label': `Hosts listening on port ${port} per process, ${usage.from} to ${usage.to}, under the registry's changes`,
  });

  // Years (or the first of each month, for a short range) along the top.
  const axis = s('g', { class: 'axis', 'aria-hidden': 'true' });
  const short = days <= 400;
  const start = new Date(from * 86400000);
  for (let d = new Date(Date.UTC(start.getUTCFullYear(), short ? start.getUTCMonth() + 1 : 12, 1)); dayNumber(dayText(d)) <= to;
    d = short ? new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)) : new Date(Date.UTC(d.getUTCFullYear() + 1, 0, 1))) {
    const at = x(dayNumber(dayText(d)));
    axis.append(s('line', { x1: at, x2: at, y1: 14, y2: plotTop + PLOT, class: 'grid' }),
      s('text', { x: at, y: 10, class: 'year' }, short ? dayText(d).slice(0, 7) : String(d.getUTCFullYear())));
  }
  svg.append(axis);

  // The registry's changes in the range, one lane per transport.
  const changes = s('g', { class: 'assignment-changes', role: 'list', 'aria-label': 'Registry changes in this range' });
  lanes.forEach((transport, row) => {
    const mid = 28 + row * LANE + LANE / 2;
    changes.append(s('text', { x: LEFT - 8, y: mid + 4, class: 'transport-label', 'aria-hidden': 'true' }, transportText(transport)),
      s('line', { x1: LEFT, x2: WIDTH - RIGHT, y1: mid, y2: mid, class: 'lane-line', 'aria-hidden': 'true' }));
  });
  for (const { timeline, version, day } of markers(timelines, from, to)) {
    const mid = 28 + lanes.indexOf(timeline.transport) * LANE + LANE / 2;
    const label = `${transportText(timeline.transport)}: ${versionLabel(version)} (${versionStatus(version)}) from ${version.from?.id} (${dayText(new Date(day * 86400000))})`;
    changes.append(s('g', {
      class: `assignment-marker st-${versionStatus(version)}`, role: 'listitem', 'aria-label': label,
      'data-transport': timeline.transport, 'data-from': version.from?.id ?? '', 'data-day': dayText(new Date(day * 86400000)),
    },
    s('title', {}, label),
    s('line', { x1: x(day), x2: x(day), y1: mid - 8, y2: plotTop + PLOT, class: 'marker-line' }),
    s('rect', { x: x(day) - 5, y: mid - 5, width: 10, height: 10, transform: `rotate(45 ${x(day)} ${mid})` })));
  }
  svg.append(changes);

  // Hosts: the grid, then one line per series; a withheld bucket ("fewer than") leaves a gap.
  const plot = s('g', { class: 'plot' });
  for (const v of grid) {
    plot.append(s('line', { x1: LEFT, x2: WIDTH - RIGHT, y1: y(v), y2: y(v), class: 'grid', 'aria-hidden': 'true' }),
      s('text', { x: LEFT - 8, y: y(v) + 4, class: 'hosts-label', 'aria-hidden': 'true' }, String(v)));
  }
  plot.append(s('text', { x: 4, y: plotTop - 4, class: 'hosts-label start', 'aria-hidden': 'true' }, 'hosts'));
  const centre = (b) => (x(b.first) + x(b.end)) / 2;
  for (const entry of [...series].reverse()) {
    let d = '';
    let open = false;
    (entry.points ?? []).forEach((p, i) => {
      const b = buckets[i] ?? { first: dayNumber(p.start), end: dayNumber(p.start) + 1 };
      if (p.fewerThanFloor) {
        open = false;
        return;
      }
      d += `${open ? 'L' : 'M'}${centre(b).toFixed(1)} ${y(p.hosts ?? 0).toFixed(1)} `;
      open = true;
    });
    plot.append(s('path', {
      class: `series ${entry.total ? 'total' : entry.other ? 'other' : 'process'}`, d: d.trim(), stroke: entry.colour,
      'data-transport': entry.transport, 'data-process': entry.processName || null,
      'data-kind': entry.total ? 'total' : entry.other ? 'other' : 'process',
    }, s('title', {}, seriesName(entry))));
  }
  svg.append(plot);

  // The hover: a guide line, and a tooltip element beside the chart that names every series' numbers.
  const guide = s('line', { class: 'guide', x1: 0, x2: 0, y1: plotTop, y2: plotTop + PLOT, visibility: 'hidden', 'aria-hidden': 'true' });
  const overlay = s('rect', {
    class: 'hover', x: LEFT, y: plotTop, width: plotWidth, height: PLOT, tabindex: '0', role: 'img',
    'aria-label': 'Hosts per bucket: move the mouse over the chart, or use the arrow keys, to read the numbers',
  });
  svg.append(guide, overlay);
  const tip = h('div', { class: 'usage-tip', role: 'status', hidden: true });
  const chart = h('div', { class: 'usage-chart' }, svg, tip);

  let shown = -1;
  const show = (index) => {
    const b = buckets[Math.min(Math.max(index, 0), buckets.length - 1)];
    if (!b) return;
    shown = b.index;
    const at = centre(b);
    guide.setAttribute('x1', at);
    guide.setAttribute('x2', at);
    guide.setAttribute('visibility', 'visible');
    const reporting = usage.reportingHosts[b.index]?.hosts ?? 0;
    tip.replaceChildren(h('strong', { class: 'tip-date' }, bucketText(b.start, usage.granularity)),
      h('ul', {}, series.map((entry) => h('li', {
        'data-kind': entry.total ? 'total' : entry.other ? 'other' : 'process', 'data-transport': entry.transport, 'data-process': entry.processName || null,
      }, h('span', { class: 'swatch', 'data-colour': entry.colour }), `${seriesName(entry)}: ${pointText(entry.points?.[b.index], usage.privacyFloor, !entry.total)}`)),
      // Counted for closed days only, and not for loaded history: left out where none were.
      reporting > 0 ? h('li', { 'data-kind': 'reporting' }, `reporting hosts: ${numberText(reporting)}`) : null));
    tip.querySelectorAll('.swatch').forEach((swatch) => { swatch.style.background = swatch.dataset.colour; });
    tip.hidden = false;
    const box = svg.getBoundingClientRect();
    const left = (at / WIDTH) * box.width;
    tip.style.left = `${Math.min(left + 12, Math.max(box.width - tip.offsetWidth, 0))}px`;
    tip.style.top = `${(plotTop / height) * box.height}px`;
  };
  const hide = () => {
    guide.setAttribute('visibility', 'hidden');
    tip.hidden = true;
  };
  overlay.addEventListener('mousemove', (event) => {
    const box = overlay.getBoundingClientRect();
    const day = from + Math.floor(((event.clientX - box.left) / box.width) * days);
    const found = buckets.findIndex((b) => day >= b.first && day < b.end);
    show(found < 0 ? buckets.length - 1 : found);
  });
  overlay.addEventListener('mouseleave', hide);
  overlay.addEventListener('blur', hide);
  overlay.addEventListener('keydown', (event) => {
    const step = { ArrowLeft: -1, ArrowRight: 1, Home: -Infinity, End: Infinity }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    show(Number.isFinite(step) ? (shown < 0 ? buckets.length - 1 : shown + step) : step < 0 ? 0 : buckets.length - 1);
  });

  const legend = h('ul', { class: 'legend usage-legend', 'aria-label': 'Series' }, series.map((entry) => {
    const swatch = s('svg', { class: 'swatch', viewBox: '0 0 14 14', width: 14, height: 14, 'aria-hidden': 'true' },
      s('line', { x1: 0, x2: 14, y1: 7, y2: 7, stroke: entry.colour, 'stroke-width': entry.total ? 1.5 : 3 }));
    return h('li', { 'data-transport': entry.transport, 'data-process': entry.processName || null }, swatch, seriesName(entry));
  }));
  return { element: chart, legend };
}
