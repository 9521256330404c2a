// Builds the page from data that agents and registry files supplied: text goes in as text nodes only, never as markup.

const SVG = 'http://www.w3.org/2000/svg';

/** An HTML element: h('a', { href: '#/port/1', class: 'x' }, 'text', child, [more]). */
export function h(tag, attributes = {}, ...children) {
  return fill(document.createElement(tag), attributes, children);
}

/** An SVG element, as h. */
export function s(tag, attributes = {}, ...children) {
  return fill(document.createElementNS(SVG, tag), attributes, children);
}

function fill(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) throw new Error(`event handlers are added with addEventListener, not as ${name}`);
    element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else if (child instanceof Node) element.append(child);
    else element.append(document.createTextNode(String(child)));
  }
}

/** A link inside the page: every part of the route is encoded, so a name cannot leave it. */
export function route(...parts) {
  return '#/' + parts.map((p) => encodeURIComponent(String(p))).join('/');
}

export function routeWithQuery(name, query) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) value.forEach((v) => search.append(key, v));
    else if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return `#/${encodeURIComponent(name)}${text ? `?${text}` : ''}`;
}

/** TRANSPORT_UDP -> udp, ASSIGNMENT_STATUS_DE_ASSIGNED -> de-assigned. */
export function enumText(value, prefix) {
  if (typeof value !== 'string') return String(value ?? '');
  const bare = value.startsWith(prefix) ? value.slice(prefix.length) : value;
  return bare.toLowerCase().replaceAll('_', '-');
}

export const transportText = (t) => enumText(t, 'TRANSPORT_');
export const statusText = (s) => enumText(s, 'ASSIGNMENT_STATUS_');
export const verdictText = (v) => enumText(v, 'VERDICT_KIND_').replaceAll('-', ' ');

/** A google.type.Date as yyyy-MM-dd; empty when unset. */
export function dateText(date) {
  if (!date || !date.year) return '';
  const pad = (n, w) => String(n).padStart(w, '0');
  return `${pad(date.year, 4)}-${pad(date.month || 1, 2)}-${pad(date.day || 1, 2)}`;
}

/** A google.type.Date as a fractional year, for drawing. */
export function dateYear(date) {
  if (!date || !date.year) return NaN;
  return date.year + ((date.month || 1) - 1) / 12 + ((date.day || 1) - 1) / 365;
}

/** An RFC 3339 timestamp, to the second, in UTC. */
export function timeText(timestamp) {
  if (!timestamp) return '';
  const parsed = new Date(timestamp);
  if (Number.isNaN(parsed.getTime()) || parsed.getTime() <= 0) return '';
  return parsed.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** "771" or "770-779"; empty for a service-name-only registration. */
export function rangeText(ports) {
  if (!ports) return '';
  return ports.first === ports.last ? String(ports.first) : `${ports.first}-${ports.last}`;
}

export function editionText(edition) {
  if (!edition || !edition.id) return '';
  const date = dateText(edition.effectiveDate);
  return date ? `${edition.id} (${date})` : edition.id;
}

export function table(caption, headings, rows) {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headings.map((heading) => h('th', { scope: 'col' }, heading)))),
    h('tbody', {}, rows));
}

/** "Name <email> (organization)", with whatever of it the record has. */
export function personText(person) {
  let text = person.name || person.id || '';
  if (person.email) text += ` <${person.email}>`;
  if (person.organization) text += ` (${person.organization})`;
  return text.trim();
}
