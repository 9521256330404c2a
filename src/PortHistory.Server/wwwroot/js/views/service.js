import { api } from '../api.js';
import { h, route, table, transportText, statusText, rangeText, editionText, dateYear } from '../dom.js';

export async function renderService(target, name) {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 200) {
    target.append(h('h1', { tabindex: '-1' }, 'No service name'), h('p', { role: 'alert' }, 'Search a service name of at most 200 characters.'));
    return;
  }
  const answer = await api.service(trimmed);
  const holdings = answer.holdings ?? [];
  const renames = [...(answer.renames ?? [])].sort((a, b) => dateYear(a.edition?.effectiveDate) - dateYear(b.edition?.effectiveDate));

  target.append(h('h1', { tabindex: '-1' }, `Service ${answer.name || trimmed}`));
  if (holdings.length === 0 && renames.length === 0) {
    target.append(h('p', {}, `No imported edition names a service “${trimmed}”.`));
    return;
  }

  const portCell = (ports) => (ports ? h('a', { href: route('port', ports.first) }, rangeText(ports)) : '(name only)');
  target.append(h('section', { 'aria-labelledby': 'holdings-title' },
    h('h2', { id: 'holdings-title' }, 'Where the name was registered'),
    table(`Every port, transport and period that held ${answer.name || trimmed}`,
      ['Name', 'Ports', 'Transport', 'Status', 'As', 'From', 'Through'],
      holdings.map((holding) => h('tr', {},
        h('td', {}, holding.name),
        h('td', {}, portCell(holding.ports)),
        h('td', {}, transportText(holding.transport)),
        h('td', {}, statusText(holding.status)),
        h('td', {}, holding.asAlias ? 'alias' : 'name'),
        h('td', {}, editionText(holding.from)),
        h('td', {}, editionText(holding.through)))))));

  const chain = h('section', { 'aria-labelledby': 'renames-title' }, h('h2', { id: 'renames-title' }, 'Rename chain'));
  if (renames.length === 0) chain.append(h('p', {}, 'Never renamed in the imported editions.'));
  else {
    chain.append(h('ol', { class: 'renames' }, renames.map((link) => h('li', {},
      h('a', { href: route('service', link.from) }, link.from), ' → ', h('a', { href: route('service', link.to) }, link.to),
      ` on ${link.ports ? `${rangeText(link.ports)}/` : ''}${transportText(link.transport)}, in ${editionText(link.edition)}`))));
  }
  target.append(chain);
}
