// The port's observed usage over time, under its registry history: a range to choose (refetched), the chart, a
// sentence when nothing listened, and each process's lifetime on the port.
import { api } from '../api.js';
import { h, table, transportText } from '../dom.js';
import { usageChart } from './usage-chart.js';
import { dayNumber, dayText, todayNumber, numberText } from './usage-text.js';

export const RANGES = [
  { id: '1y', label: '1 year, daily', years: 1, granularity: 'USAGE_GRANULARITY_DAY' },
  { id: '5y', label: '5 years, weekly', years: 5, granularity: 'USAGE_GRANULARITY_WEEK' },
  { id: '10y', label: '10 years, monthly', years: 10, granularity: 'USAGE_GRANULARITY_MONTH' },
];

/** The range's days up to today (UTC), both included: a year is the last 365 days. */
export function loadUsage(port, range) {
  const today = todayNumber();
  const now = new Date(today * 86400000);
  const from = Date.UTC(now.getUTCFullYear() - range.years, now.getUTCMonth(), now.getUTCDate() + 1) / 86400000;
  return api.usage(port, dayText(from), dayText(today), range.granularity);
}

const seen = (series) => (series.points ?? []).some((p) => (p.hosts ?? 0) > 0 || p.fewerThanFloor);
const plural = (n, word) => `${numberText(n)} ${word}${n === 1 ? '' : 's'}`;

/**
 * Says so when nothing listened on the port (or on a transport the registry lists it for) in the range: the days
 * counted are those from the range's first day, or from the first day any host reported if that is later, to today.
 */
function silence(port, usage, timelines) {
  if (!usage.reportingSince) {
    return [h('p', { class: 'usage-statement' }, `No host reports to PortHistory yet: there is no usage of port ${port} to show.`)];
  }
  const start = Math.max(dayNumber(usage.reportingSince), dayNumber(usage.from));
  const tail = ` in ${plural(Math.max(dayNumber(usage.to) - start + 1, 0), 'day')} (reporting since ${usage.reportingSince}).`;
  const observed = new Set((usage.series ?? []).filter(seen).map((series) => series.transport));
  if (observed.size === 0) return [h('p', { class: 'usage-statement' }, `No listener seen on ${port}${tail}`)];
  return timelines
    .filter((t) => !observed.has(t.transport) && (t.versions ?? []).some((v) => (v.records ?? []).length > 0))
    .map((t) => h('p', { class: 'usage-statement', 'data-transport': t.transport }, `No listener seen on ${port}/${transportText(t.transport)}${tail}`));
}

const day = (timestamp) => (timestamp ? dayText(new Date(timestamp)) : '');

function lifetimes(port, usage) {
  const floor = usage.privacyFloor;
  const rows = (usage.lifetimes ?? []).map((l) => h('tr', { 'data-transport': l.transport, 'data-process': l.processName },
    h('td', {}, h('span', { class: 'process' }, l.processName || '(unnamed)'), l.executable ? h('div', { class: 'sub' }, l.executable) : null),
    h('td', {}, transportText(l.transport)),
    h('td', { class: 'first-seen' }, day(l.firstSeen)),
    h('td', { class: 'last-seen' }, l.listeningNow ? 'listening now' : day(l.lastSeen)),
    h('td', { class: 'num hosts-now' }, l.fewerThanFloor ? `fewer than ${floor}` : numberText(l.hostsNow ?? 0)),
    h('td', { class: 'peak' }, l.peakHosts ? `${plural(l.peakHosts, 'host')} on ${l.peakDay}` : '—')));
  if (rows.length === 0) return null;
  return table(`Processes on port ${port}, first to last seen`, ['Process', 'Transport', 'First seen', 'Last seen', 'Hosts now', 'Peak'], rows);
}

function fill(body, port, usage, timelines) {
  const series = usage.series ?? [];
  const parts = [...silence(port, usage, timelines)];
  if (series.some(seen)) {
    const { element, legend } = usageChart(port, usage, timelines);
    parts.push(legend, element);
  }
  if (series.some(seen) && usage.privacyFloor > 1) {
    parts.push(h('p', { class: 'hint' }, `Processes seen on fewer than ${usage.privacyFloor} hosts are named to admin tokens only; `,
      'for other tokens they count in “other”, and such counts read “fewer than ', String(usage.privacyFloor), '”.'));
  }
  parts.push(lifetimes(port, usage));
  body.replaceChildren(...parts.filter(Boolean));
  body.dataset.from = usage.from;
  body.dataset.granularity = usage.granularity;
}

/** @param first the first range's answer, fetched with the rest of the port's page */
export function usageSection(port, first, timelines) {
  const body = h('div', { class: 'usage-body', 'aria-live': 'polite' });
  const select = h('select', { id: 'usage-range' }, RANGES.map((r) => h('option', { value: r.id }, r.label)));
  const section = h('section', { 'aria-labelledby': 'usage-title' },
    h('h2', { id: 'usage-title' }, 'Observed usage over time'),
    h('p', { class: 'hint' }, 'Hosts that had each process listening, per bucket, on the same time axis as the registry’s changes (◆).'),
    h('div', { class: 'filters' }, h('div', { class: 'field' }, h('label', { for: 'usage-range' }, 'Usage range'), select)),
    body);
  fill(body, port, first, timelines);

  let loads = 0;
  select.addEventListener('change', async () => {
    const current = ++loads;
    const range = RANGES.find((r) => r.id === select.value) ?? RANGES[0];
    body.setAttribute('aria-busy', 'true');
    try {
      const usage = await loadUsage(port, range);
      if (current === loads) fill(body, port, usage, timelines);
    } catch (error) {
      if (current === loads) body.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Could not load the usage history: ${error.message}`));
    } finally {
      if (current === loads) body.removeAttribute('aria-busy');
    }
  });
  return section;
}
