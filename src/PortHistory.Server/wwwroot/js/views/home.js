import { h, route } from '../dom.js';

export async function renderHome(target) {
  target.append(
    h('h1', { tabindex: '-1' }, 'PortHistory'),
    h('p', {}, 'What a network port is for, what it was for, and what actually runs on it: every Assigned Numbers RFC and IANA registry edition imported, and what fleets of hosts report.'),
    h('p', {}, 'Search a port number or a service name above, or start with one of these:'),
    h('ul', {},
      h('li', {}, h('a', { href: route('port', 771) }, 'Port 771'), ': rtip, since RFC 1340'),
      h('li', {}, h('a', { href: route('port', 776) }, 'Port 776'), ': wpages in the registry; what do hosts run there?'),
      h('li', {}, h('a', { href: route('service', 'wpages') }, 'Service wpages'), ': every port and period the name held'),
      h('li', {}, h('a', { href: '#/discrepancies' }, 'Discrepancies'), ': where the registry and the fleets disagree'),
      h('li', {}, h('a', { href: '#/diff' }, 'Diff'), ': what changed between two editions')));
}
