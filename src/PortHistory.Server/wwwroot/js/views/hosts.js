// The reporting hosts (an admin's token): the fleet by state, and one host's sockets with since when it has had each.
import { api, ApiError } from '../api.js';
import { h, route, routeWithQuery, table } from '../dom.js';

const STATES = ['online', 'stale', 'retired'];
const SHOWN = 2000;

const stateText = (state) => (state ?? '').replace('HOST_LIVENESS_', '').toLowerCase() || '?';
const time = (at) => (at ? at.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');

/** Host refs are for admins: another role gets a plain answer, not an error page. */
async function asAdmin(target, load) {
  try {
    return await load();
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      target.append(h('p', { class: 'hint' }, 'The hosts are shown to an admin token only: ', error.message));
      return null;
    }
    throw error;
  }
}

export async function renderHosts(target, query) {
  const state = STATES.includes(query.get('state')) ? query.get('state') : '';
  const group = (query.get('group') ?? '').slice(0, 64);
  target.append(h('h1', { tabindex: '-1' }, 'Reporting hosts'));

  const form = h('form', { class: 'filters', 'aria-label': 'Filters' },
    h('div', { class: 'field' }, h('label', { for: 'hosts-state' }, 'State'),
      h('select', { id: 'hosts-state' }, h('option', { value: '' }, 'any'),
        STATES.map((s) => h('option', { value: s, selected: s === state }, s)))),
    h('div', { class: 'field' }, h('label', { for: 'hosts-group' }, 'Group'),
      h('input', { id: 'hosts-group', type: 'text', maxlength: 64, value: group })),
    h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = routeWithQuery('hosts', { state: form.querySelector('#hosts-state').value, group: form.querySelector('#hosts-group').value });
  });
  target.append(form);

  const first = await asAdmin(target, () => api.hosts(state ? `HOST_LIVENESS_${state.toUpperCase()}` : '', group, ''));
  if (!first) return;
  const hosts = [...(first.hosts ?? [])];
  let next = first.nextPageToken;
  while (next && hosts.length < SHOWN) {
    const page = await api.hosts(state ? `HOST_LIVENESS_${state.toUpperCase()}` : '', group, next);
    hosts.push(...(page.hosts ?? []));
    next = page.nextPageToken;
  }

  target.append(h('p', { class: 'summary' },
    `The fleet: ${first.online ?? 0} online, ${first.stale ?? 0} stale, ${first.retired ?? 0} retired. Verdicts count online and stale hosts.`));
  if (next) target.append(h('p', { class: 'hint' }, `Showing the first ${hosts.length}; choose a state or a group to see the rest.`));
  target.append(table('Hosts, in host_ref order',
    ['Host', 'State', 'Since', 'Group', 'Last heard', 'Sockets', 'Reports', 'Agent', 'Dropped'],
    hosts.map((host) => h('tr', { 'data-host': host.hostRef, 'data-state': stateText(host.state) },
      h('td', {}, h('a', { href: route('host', host.hostRef) }, host.hostRef)),
      h('td', {}, stateText(host.state)),
      h('td', {}, time(host.stateSince)),
      h('td', {}, host.hostGroup || '—'),
      h('td', {}, time(host.lastSeen)),
      h('td', { class: 'num' }, String(host.sockets ?? 0)),
      h('td', {}, host.differential ? `changes (seq ${host.seq})` : 'full reports'),
      h('td', {}, host.agentVersion || '—'),
      h('td', { class: 'num' }, String(host.droppedReports ?? 0))))));
}

export async function renderHost(target, hostRef) {
  target.append(h('h1', { tabindex: '-1' }, `Host ${hostRef}`));
  const answer = await asAdmin(target, () => api.host(hostRef));
  if (!answer) return;
  const host = answer.host ?? {};
  const facts = [
    ['State', `${stateText(host.state)} since ${time(host.stateSince)}`],
    ['Last heard', time(host.lastSeen)],
    ['First seen', time(host.firstSeen)],
    ['Reports', host.differential ? `changes (seq ${host.seq}); last snapshot ${time(host.lastSnapshotAt)}` : 'full scans'],
    ['Group', host.hostGroup || '—'],
    ['Agent', `${host.agentVersion || '—'}, ${host.agentPrivileged ? 'privileged' : 'unprivileged'}`],
    ['Dropped by its spool', `${host.droppedReports ?? 0} report(s), ${host.droppedBytes ?? 0} bytes`],
  ];
  if (host.retiredReason) facts.push(['Retired', host.retiredReason]);
  target.append(h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
  target.append(table('Sockets it listens on now',
    ['Port', 'Scope', 'Process', 'Program', 'Unit', 'Executable', 'Since'],
    (answer.sockets ?? []).map(({ socket, since }) => h('tr', {},
      h('td', {}, h('a', { href: route('port', socket.port) }, `${socket.port}/${(socket.transport ?? '').replace('TRANSPORT_', '').toLowerCase()}`)),
      h('td', {}, socket.bindScope === 'BIND_SCOPE_SPECIFIC' ? socket.boundAddress : (socket.bindScope ?? '').replace('BIND_SCOPE_', '').toLowerCase()),
      h('td', {}, socket.processName || '—'),
      h('td', {}, socket.program || '—'),
      h('td', {}, socket.systemdUnit || '—'),
      h('td', {}, socket.executable || '—'),
      h('td', {}, time(since))))));
}
