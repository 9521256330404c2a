// Days, buckets and counts of the usage history as text. Days are UTC days, YYYY-MM-DD, as the server writes them.
import { transportText } from '../dom.js';

const DAY = 86400000;

/** YYYY-MM-DD as days since 1970-01-01; NaN when it is not one. */
export function dayNumber(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text ?? '');
  return match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / DAY : NaN;
}

/** A Date (or a day number) as YYYY-MM-DD. */
export function dayText(date) {
  return (typeof date === 'number' ? new Date(date * DAY) : date).toISOString().slice(0, 10);
}

export function todayNumber() {
  return Math.floor(Date.now() / DAY);
}

/** Counts as people read them: 1,412. */
export const numberText = (n) => new Intl.NumberFormat('en-US').format(n);

/** A bucket's name: its day, "week of" its Monday, or its month. */
export function bucketText(start, granularity) {
  if (granularity === 'USAGE_GRANULARITY_WEEK') return `week of ${start}`;
  if (granularity === 'USAGE_GRANULARITY_MONTH') return start.slice(0, 7);
  return start;
}

export function seriesName(series) {
  const transport = transportText(series.transport);
  if (series.total) return `all processes (${transport})`;
  if (series.other) return `other (${transport})`;
  return `${series.processName || '(unnamed)'} (${transport})`;
}

/**
 * A point's hosts (and how many were reachable, for a process), or "fewer than K" where the server withheld the count.
 * The port's total counts hosts where anything listened, so it has no reach of its own.
 */
export function pointText(point, floor, reach = true) {
  if (!point) return 'no data';
  if (point.fewerThanFloor) return `fewer than ${floor} hosts`;
  const hosts = point.hosts ?? 0;
  return `${numberText(hosts)} host${hosts === 1 ? '' : 's'}${reach && hosts ? `, ${numberText(point.reachable ?? 0)} reachable` : ''}`;
}
