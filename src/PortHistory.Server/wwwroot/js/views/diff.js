import { api } from '../api.js';
import { h, route, routeWithQuery, table, transportText, enumText, rangeText, editionText } from '../dom.js';
import { changeText } from './port.js';

/** Rows drawn at most; a whole-registry diff has thousands, and the port range narrows it. */
const SHOWN = 1000;

const portNumber = (text) => (/^\d{1,5}$/.test(text ?? '') && Number(text) <= 65535 ? text : '');

export async function renderDiff(target, query) {
  const catalog = await api.editions();
  const editions = catalog.editions ?? [];
  const ids = new Set(editions.map((e) => e.id));
  const from = ids.has(query.get('from')) ? query.get('from') : editions.at(-2)?.id ?? '';
  const to = ids.has(query.get('to')) ? query.get('to') : editions.at(-1)?.id ?? '';
  let first = portNumber(query.get('first'));
  let last = portNumber(query.get('last'));
  if (first === '' || last === '' || Number(first) > Number(last)) first = last = '';

  target.append(h('h1', { tabindex: '-1' }, 'What changed between two editions'));
  if (editions.length < 2) {
    target.append(h('p', {}, 'Import at least two editions to compare them.'));
    return;
  }

  const select = (id, label, chosen) => {
    const element = h('select', { id, name: id }, editions.map((e) => h('option', { value: e.id, selected: e.id === chosen }, editionText(e))));
    return h('div', { class: 'field' }, h('label', { for: id }, label), element);
  };
  const form = h('form', { class: 'filters', 'aria-label': 'Editions to compare' },
    select('diff-from', 'From edition', from),
    select('diff-to', 'To edition', to),
    h('div', { class: 'field' }, h('label', { for: 'diff-first' }, 'First port'),
      h('input', { id: 'diff-first', type: 'number', min: 0, max: 65535, value: first, inputmode: 'numeric' })),
    h('div', { class: 'field' }, h('label', { for: 'diff-last' }, 'Last port'),
      h('input', { id: 'diff-last', type: 'number', min: 0, max: 65535, value: last, inputmode: 'numeric' })),
    h('button', { type: 'submit' }, 'Compare'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = (id) => form.querySelector(`#${id}`).value;
    location.hash = routeWithQuery('diff', { from: value('diff-from'), to: value('diff-to'), first: value('diff-first'), last: value('diff-last') });
  });
  target.append(form);

  const messages = await api.diff(from, to, first, last);
  const entries = messages.flatMap((m) => m.entries ?? []);
  const scope = first !== '' ? (first === last ? ` on port ${first}` : ` on ports ${first}-${last}`) : '';
  target.append(h('p', { class: 'summary' },
    `${entries.length} difference(s) from ${editionText(messages[0]?.from) || from} to ${editionText(messages[0]?.to) || to}${scope}.`));
  if (entries.length > SHOWN) target.append(h('p', { class: 'hint' }, `Showing the first ${SHOWN}; give a port range to see the rest.`));

  const names = (records) => (records ?? []).map((r) => r.serviceName || '(no name)').join(', ');
  target.append(table('Differences, in port order', ['Ports', 'Transport', 'Kind', 'Before', 'After', 'Changes'],
    entries.slice(0, SHOWN).map((entry) => h('tr', {},
      h('td', {}, entry.ports ? h('a', { href: route('port', entry.ports.first) }, rangeText(entry.ports)) : '(name only)'),
      h('td', {}, transportText(entry.transport)),
      h('td', {}, enumText(entry.kind, 'DIFF_KIND_')),
      h('td', {}, names(entry.before)),
      h('td', {}, names(entry.after)),
      h('td', {}, h('ul', { class: 'changes' }, (entry.changes ?? []).map((c) => h('li', {}, changeText(c)))))))));
}
