// A port's registry history as an SVG: one row per transport from the first edition (1986) to today, one bar per
// version coloured by status, the editions as ticks. Bars are keyboard-focusable buttons; choosing one shows its record.
import { s, dateYear, dateText, statusText, transportText, editionText } from '../dom.js';

const WIDTH = 960;
const LEFT = 64;
const RIGHT = 16;
const TOP = 40;
const ROW = 34;
const GAP = 12;

export function versionLabel(version) {
  const records = version.records ?? [];
  if (records.length === 0) return 'not listed';
  return [...new Set(records.map((r) => r.serviceName || `(${statusText(r.status)})`))].join(' / ');
}

export function versionStatus(version) {
  const records = version.records ?? [];
  return records.length === 0 ? 'unlisted' : statusText(records[0].status);
}

/** Where each version ends: the next version's first edition, or today for the last. */
export function versionSpans(timeline, today) {
  const versions = [...(timeline.versions ?? [])].sort((a, b) => dateYear(a.from?.effectiveDate) - dateYear(b.from?.effectiveDate));
  return versions.map((version, i) => ({
    version,
    start: dateYear(version.from?.effectiveDate),
    end: i + 1 < versions.length ? dateYear(versions[i + 1].from?.effectiveDate) : today,
    previous: i > 0 ? versions[i - 1] : null,
  }));
}

/**
 * @param timelines GetTimelineResponse.timelines
 * @param editions ListEditionsResponse.editions
 * @param choose called with (timeline, span) when a bar is chosen
 */
export function timelineSvg(port, timelines, editions, choose) {
  const now = new Date();
  const today = now.getUTCFullYear() + now.getUTCMonth() / 12 + (now.getUTCDate() - 1) / 365;
  const editionYears = editions.map((e) => dateYear(e.effectiveDate)).filter((y) => !Number.isNaN(y));
  const start = Math.floor(Math.min(1986, ...editionYears));
  const end = today;
  const x = (year) => LEFT + ((Math.min(Math.max(year, start), end) - start) / (end - start)) * (WIDTH - LEFT - RIGHT);
  const height = TOP + timelines.length * (ROW + GAP) + 8;

  const svg = s('svg', {
    class: 'timeline', viewBox: `0 0 ${WIDTH} ${height}`, role: 'group',
    'aria-label': `Registry history of port ${port} per transport, ${start} to ${now.getUTCFullYear()}`,
  });

  // Years along the top.
  const axis = s('g', { class: 'axis', 'aria-hidden': 'true' });
  for (let year = start; year <= end; year++) {
    if (year !== start && year % 5 !== 0) continue;
    axis.append(s('line', { x1: x(year), x2: x(year), y1: 14, y2: height - 4, class: 'grid' }),
      s('text', { x: x(year), y: 10, class: 'year' }, String(year)));
  }
  svg.append(axis);

  // Editions as ticks.
  const ticks = s('g', { class: 'editions' });
  for (const edition of editions) {
    const at = dateYear(edition.effectiveDate);
    if (Number.isNaN(at)) continue;
    ticks.append(s('g', { class: 'edition-tick', 'data-edition': edition.id },
      s('title', {}, `${edition.title || edition.id} — ${dateText(edition.effectiveDate)}`),
      s('line', { x1: x(at), x2: x(at), y1: 18, y2: TOP - 4 }),
      s('circle', { cx: x(at), cy: 22, r: 3.5 })));
  }
  svg.append(ticks);

  timelines.forEach((timeline, row) => {
    const y = TOP + row * (ROW + GAP);
    const transport = transportText(timeline.transport);
    const group = s('g', { class: 'transport', 'data-transport': timeline.transport, role: 'list', 'aria-label': transport });
    group.append(s('text', { x: LEFT - 8, y: y + ROW / 2 + 5, class: 'transport-label', 'aria-hidden': 'true' }, transport),
      s('rect', { x: x(start), y, width: x(end) - x(start), height: ROW, class: 'lane', 'aria-hidden': 'true' }));
    for (const span of versionSpans(timeline, today)) {
      const { version } = span;
      const left = x(span.start);
      const width = Math.max(x(span.end) - left, 3);
      const label = versionLabel(version);
      const status = versionStatus(version);
      const period = `${editionText(version.from)} through ${editionText(version.through)}`;
      const bar = s('g', {
        class: `version st-${status}`, tabindex: '0', role: 'button', 'aria-pressed': 'false',
        'data-transport': timeline.transport, 'data-from': version.from?.id ?? '', 'data-label': label,
        'aria-label': `${transport}: ${label}, ${status}, ${period}`,
      },
      s('title', {}, `${transport}: ${label} (${status})\n${period}`),
      s('rect', { x: left, y, width, height: ROW, rx: 3 }));
      // The name inside the bar where it fits; the table below and the bar's title always have it.
      if (width > label.length * 7.5 + 10) bar.append(s('text', { x: left + 6, y: y + ROW / 2 + 5, class: 'bar-label', 'aria-hidden': 'true' }, label));
      const pick = () => {
        svg.querySelectorAll('.version.selected').forEach((v) => {
          v.classList.remove('selected');
          v.setAttribute('aria-pressed', 'false');
        });
        bar.classList.add('selected');
        bar.setAttribute('aria-pressed', 'true');
        choose(timeline, span);
      };
      bar.addEventListener('click', pick);
      bar.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          pick();
        }
      });
      group.append(s('g', { role: 'listitem' }, bar));
    }
    svg.append(group);
  });
  return svg;
}

export const statuses = ['assigned', 'conventional', 'reserved', 'unassigned', 'de-assigned', 'unlisted'];

export function legend() {
  const items = statuses.map((status) => {
    const swatch = s('svg', { class: 'swatch', viewBox: '0 0 14 14', width: 14, height: 14, 'aria-hidden': 'true' },
      s('rect', { class: `st-${status}`, x: 0, y: 0, width: 14, height: 14, rx: 2 }));
    const li = document.createElement('li');
    li.append(swatch, document.createTextNode(status === 'unlisted' ? 'not listed' : status));
    return li;
  });
  const list = document.createElement('ul');
  list.className = 'legend';
  list.setAttribute('aria-label', 'Colours');
  list.append(...items);
  return list;
}
