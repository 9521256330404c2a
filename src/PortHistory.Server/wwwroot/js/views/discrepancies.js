import { api } from '../api.js';
import { h, route, routeWithQuery, table, transportText, verdictText } from '../dom.js';

const VERDICTS = ['squatter', 'unregistered', 'ghost', 'match', 'dynamic', 'insufficient-evidence'];
const DEFAULT_VERDICTS = ['squatter', 'unregistered', 'ghost'];
const TRANSPORTS = ['tcp', 'udp', 'sctp', 'dccp'];
// Drawn a step at a time: laying out a row costs the browser about 0.3 ms (2,000 rows took 0.6 s on the focus after
// drawing, in headless Chromium), and the default list holds every unobserved assignment, some 20,000 ghosts.
const STEP = 500;

const verdictEnum = (v) => `VERDICT_KIND_${v.toUpperCase().replaceAll('-', '_')}`;
const portNumber = (text) => (/^\d{1,5}$/.test(text ?? '') && Number(text) <= 65535 ? text : '');

export async function renderDiscrepancies(target, query) {
  const asked = query.getAll('verdict').flatMap((v) => v.split(',')).filter((v) => VERDICTS.includes(v));
  const verdicts = asked.length ? [...new Set(asked)] : DEFAULT_VERDICTS;
  const transport = TRANSPORTS.includes(query.get('transport')) ? query.get('transport') : '';
  let first = portNumber(query.get('first'));
  let last = portNumber(query.get('last'));
  if (first === '' || last === '' || Number(first) > Number(last)) first = last = '';

  target.append(h('h1', { tabindex: '-1' }, 'Where registry and fleets disagree'));

  const form = h('form', { class: 'filters', 'aria-label': 'Filters' },
    h('fieldset', {}, h('legend', {}, 'Verdicts'),
      VERDICTS.map((v) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'verdict', value: v, checked: verdicts.includes(v) }), ` ${verdictText(verdictEnum(v))}`))),
    h('div', { class: 'field' }, h('label', { for: 'disc-transport' }, 'Transport'),
      h('select', { id: 'disc-transport' }, h('option', { value: '' }, 'any'),
        TRANSPORTS.map((t) => h('option', { value: t, selected: t === transport }, t)))),
    h('div', { class: 'field' }, h('label', { for: 'disc-first' }, 'First port'),
      h('input', { id: 'disc-first', type: 'number', min: 0, max: 65535, value: first })),
    h('div', { class: 'field' }, h('label', { for: 'disc-last' }, 'Last port'),
      h('input', { id: 'disc-last', type: 'number', min: 0, max: 65535, value: last })),
    h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = [...form.querySelectorAll('input[name=verdict]:checked')].map((c) => c.value);
    location.hash = routeWithQuery('discrepancies', {
      verdict: chosen.join(','), transport: form.querySelector('#disc-transport').value,
      first: form.querySelector('#disc-first').value, last: form.querySelector('#disc-last').value,
    });
  });
  target.append(form);

  const messages = await api.discrepancies(verdicts.map(verdictEnum), transport ? `TRANSPORT_${transport.toUpperCase()}` : '', first, last);
  const rows = messages.flatMap((m) => m.discrepancies ?? []);
  const reporting = messages.reduce((n, m) => Math.max(n, Number(m.reportingHosts ?? 0)), 0);
  target.append(h('p', { class: 'summary' }, `${rows.length} discrepanc${rows.length === 1 ? 'y' : 'ies'}; ${reporting} host(s) report.`));
  const list = table('Discrepancies, in port order', ['Port', 'Transport', 'Verdict', 'Assigned to', 'Observed', 'Hosts', 'Sightings', 'Reason'], []);
  const body = list.querySelector('tbody');
  const shown = h('p', { class: 'hint', 'aria-live': 'polite' });
  const more = h('button', { type: 'button' }, `Next ${STEP} rows`);
  let drawn = 0;
  const drawNext = () => {
    body.append(...rows.slice(drawn, drawn + STEP).map(row));
    drawn = Math.min(rows.length, drawn + STEP);
    shown.textContent = `Showing ${drawn} of ${rows.length}; give a port range to narrow the list.`;
    shown.hidden = more.hidden = drawn >= rows.length;
  };
  more.addEventListener('click', drawNext);
  drawNext();
  target.append(list, shown, more);
}

const row = (d) => h('tr', { 'data-port': d.port, 'data-verdict': d.verdict?.kind ?? '' },
  h('td', {}, h('a', { href: route('port', d.port) }, String(d.port))),
  h('td', {}, transportText(d.verdict?.transport)),
  h('td', {}, verdictText(d.verdict?.kind)),
  h('td', {}, d.verdict?.assignedService || '—'),
  h('td', {}, (d.verdict?.observedProcesses ?? []).join(', ')),
  h('td', { class: 'num' }, String(d.hosts ?? 0)),
  h('td', { class: 'num' }, String(d.sightings ?? 0)),
  h('td', {}, d.verdict?.reason ?? ''));
