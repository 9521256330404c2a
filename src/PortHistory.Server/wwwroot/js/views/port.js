import { api } from '../api.js';
import {
  h, route, routeWithQuery, table, transportText, statusText, verdictText, enumText, dateText, timeText, rangeText, editionText, personText,
} from '../dom.js';
import { timelineSvg, legend, versionLabel, versionStatus, versionSpans } from './timeline.js';
import { usageSection, loadUsage, RANGES } from './usage.js';

export async function renderPort(target, text) {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    target.append(h('h1', { tabindex: '-1' }, 'Not a port'), h('p', { role: 'alert' }, 'A port is a number from 0 to 65535.'));
    return;
  }
  const port = Number(text);
  const [now, history, catalog, usage] = await Promise.all([api.port(port), api.timeline(port), api.editions(), loadUsage(port, RANGES[0])]);
  const editions = catalog.editions ?? [];
  const timelines = history.timelines ?? [];

  target.append(
    h('h1', { tabindex: '-1' }, `Port ${port}`, ' ', h('span', { class: 'badge' }, enumText(now.portClass, 'PORT_CLASS_'))),
    story(port, timelines),
    verdictSection(now.verdicts ?? []),
    historySection(port, timelines, editions),
    usageSection(port, usage, timelines),
    currentSection(now),
    observedSection(now.observed));
}

/** One line per transport: the names and statuses the port went through, with the edition each began in. */
function story(port, timelines) {
  if (timelines.length === 0) return h('p', { class: 'story' }, `No imported edition lists port ${port}.`);
  return h('ul', { class: 'story', 'aria-label': 'At a glance' }, timelines.map((timeline) => {
    const steps = [];
    for (const { version } of versionSpans(timeline, 0)) {
      const label = versionLabel(version);
      const status = versionStatus(version);
      // Versions that differ only in details (a contact, a description) read as one step.
      if (steps.length && steps.at(-1).label === label && steps.at(-1).status === status) continue;
      steps.push({ label, status, since: `since ${version.from?.id} (${dateText(version.from?.effectiveDate).slice(0, 4)})` });
    }
    const text = steps.map((step) => (step.status === 'unlisted' ? `not listed ${step.since}` : `${step.label} (${step.status}) ${step.since}`));
    return h('li', {}, h('strong', {}, transportText(timeline.transport)), ': ', text.join(' → '));
  }));
}

function historySection(port, timelines, editions) {
  const details = h('div', { class: 'record', id: 'record', 'aria-live': 'polite' },
    h('p', { class: 'hint' }, 'Choose a bar (click, or Tab then Enter) to see its record and where it comes from.'));
  const section = h('section', { 'aria-labelledby': 'history-title' },
    h('h2', { id: 'history-title' }, 'Registry history'),
    legend());
  if (timelines.length > 0) {
    section.append(timelineSvg(port, timelines, editions, (timeline, span) => details.replaceChildren(...recordView(port, timeline, span, editions))),
      h('p', { class: 'hint' }, 'Ticks: the imported editions, ', editions.map((e) => editionText(e)).join(', '), '.'));
  }
  section.append(details, versionsTable(port, timelines));
  return section;
}

function diffLink(port, span) {
  if (!span.previous) return null;
  return h('a', {
    href: routeWithQuery('diff', { from: span.previous.through?.id, to: span.version.from?.id, first: port, last: port }),
  }, `What changed from ${span.previous.through?.id} to ${span.version.from?.id}`);
}

function versionsTable(port, timelines) {
  const rows = timelines.flatMap((timeline) => versionSpans(timeline, 0).map((span) => {
    const { version } = span;
    const names = (version.records ?? []).map((r) => r.serviceName).filter(Boolean);
    return h('tr', { 'data-transport': timeline.transport, 'data-from': version.from?.id ?? '' },
      h('td', {}, transportText(timeline.transport)),
      h('td', {}, editionText(version.from)),
      h('td', {}, editionText(version.through)),
      h('td', { class: 'num' }, String(version.editionCount ?? '')),
      h('td', {}, versionStatus(version) === 'unlisted' ? 'not listed' : versionStatus(version)),
      h('td', {}, names.length ? names.flatMap((n, i) => [i ? ', ' : '', h('a', { href: route('service', n) }, n)]) : '—'),
      h('td', {}, (version.records ?? []).map((r) => r.description).filter(Boolean).join(' / ')),
      h('td', {}, diffLink(port, span)));
  }));
  return table(`Every version of port ${port}'s assignment`,
    ['Transport', 'From', 'Through', 'Editions', 'Status', 'Service', 'Description', 'Changes'], rows);
}

function recordView(port, timeline, span, editions) {
  const { version } = span;
  const out = [h('h3', {}, `${transportText(timeline.transport)}: ${versionLabel(version)}`),
    h('p', {}, `${editionText(version.from)} through ${editionText(version.through)}, ${version.editionCount} edition(s).`)];
  const records = version.records ?? [];
  if (records.length === 0) out.push(h('p', {}, 'The port is not listed on this transport in these editions.'));
  const source = editions.find((e) => e.id === version.from?.id);
  for (const record of records) out.push(recordList(record, version.from, source));
  const changes = version.changes ?? [];
  if (changes.length) {
    out.push(h('h4', {}, 'Changes from the version before'), h('ul', {}, changes.map((c) => h('li', {}, changeText(c)))));
  }
  const link = diffLink(port, span);
  if (link) out.push(h('p', {}, link));
  return out;
}

export function changeText(change) {
  const kind = enumText(change.kind, 'CHANGE_KIND_');
  const field = change.field ? ` ${change.field}` : '';
  const before = change.before ?? '';
  const after = change.after ?? '';
  if (!before && !after) return `${kind}${field}`;
  if (!before) return `${kind}${field}: “${after}”`;
  if (!after) return `${kind}${field}: was “${before}”`;
  return `${kind}${field}: “${before}” → “${after}”`;
}

function recordList(record, edition, source) {
  const entries = [
    ['Service', record.serviceName ? h('a', { href: route('service', record.serviceName) }, record.serviceName) : '(none)'],
    ['Aliases', (record.aliases ?? []).join(', ')],
    ['Ports', `${rangeText(record.ports)}/${transportText(record.transport)}`],
    ['Status', statusText(record.status)],
    ['Description', record.description],
    ['Assignees', (record.assignees ?? []).map(personText).join('; ')],
    ['Contacts', (record.contacts ?? []).map(personText).join('; ')],
    ['References', (record.references ?? []).join(', ')],
    ['Registered', record.registered],
    ['Modified', record.modified],
    ['Notes', (record.notes ?? []).join(' ')],
    ['Unauthorized uses', (record.unauthorizedUses ?? []).join('; ')],
    ['De-assigned', record.deassignment && (record.deassignment.on || record.deassignment.previousService)
      ? `${record.deassignment.on} ${record.deassignment.previousService ? `(was ${record.deassignment.previousService})` : ''}`.trim() : ''],
    ['Replaces', record.replaces],
    ['Alias of', record.aliasOf],
    ['Service code', record.serviceCode],
    ['Source', [edition?.title ? `${edition.title} (${edition.id})` : edition?.id, record.section ? `section “${record.section}”` : '',
      record.line ? `line ${record.line}` : ''].filter(Boolean).join(', ')],
    ['Edition file', source ? [source.source, source.sha256 ? `sha256 ${source.sha256}` : '', source.importedAt ? `imported ${timeText(source.importedAt)}` : '']
      .filter(Boolean).join(', ') : ''],
  ];
  return h('dl', { class: 'fields' }, entries.filter(([, value]) => value !== undefined && value !== null && value !== '')
    .flatMap(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]));
}

/**
 * Since when the transport has been held as it is (the unbroken holding, renames followed), then the conventional use it
 * took over and the record's last change, when there are any. Servers that do not send heldSince answer with since.
 */
function sinceCell(t) {
  const held = t.heldSince ?? t.since;
  const changes = t.changes ?? [];
  const changedLater = t.since?.id && held?.id && t.since.id !== held.id;
  return h('td', { class: 'since' }, editionText(held),
    t.conventionalSince ? h('div', { class: 'sub' }, `conventional use since ${editionText(t.conventionalSince)}`) : null,
    changedLater ? h('div', { class: 'sub' }, `record last changed in ${editionText(t.since)}`,
      changes.length ? `: ${changes.map(changeText).join('; ')}` : '') : null);
}

function currentSection(now) {
  const rows = (now.transports ?? []).flatMap((t) => {
    const records = t.records ?? [];
    if (records.length === 0) return [h('tr', {}, h('td', {}, transportText(t.transport)), h('td', { colspan: 4 }, 'not listed'))];
    return records.map((r) => h('tr', { 'data-transport': t.transport },
      h('td', {}, transportText(t.transport)),
      h('td', {}, r.serviceName ? h('a', { href: route('service', r.serviceName) }, r.serviceName) : '—'),
      h('td', {}, statusText(r.status)),
      h('td', {}, r.description),
      sinceCell(t)));
  });
  return h('section', { 'aria-labelledby': 'now-title' },
    h('h2', { id: 'now-title' }, 'In the registry now'),
    h('p', {}, now.edition?.id ? `As of ${editionText(now.edition)}.` : 'No edition is in effect.'),
    table('Current assignment per transport', ['Transport', 'Service', 'Status', 'Description', 'Since'], rows));
}

function observedSection(observed) {
  const section = h('section', { 'aria-labelledby': 'observed-title' }, h('h2', { id: 'observed-title' }, 'Observed on hosts'));
  const transports = observed?.transports ?? [];
  section.append(h('p', {}, `${observed?.reportingHosts ?? 0} host(s) report to PortHistory.`));
  if (transports.length === 0) {
    section.append(h('p', {}, 'No fleet has reported anything on this port.'));
    return section;
  }
  for (const t of transports) {
    const processes = [...(t.processes ?? [])];
    if (t.other && (t.otherProcesses ?? 0) > 0) processes.push({ ...t.other, processName: `(other: ${t.otherProcesses} processes)` });
    const rows = processes.map((p) => h('tr', {},
      h('td', {}, h('span', { class: 'process' }, p.processName || '(unnamed)'),
        p.executable ? h('div', { class: 'sub' }, p.executable) : null,
        p.program ? h('div', { class: 'sub' }, `runs ${p.program}`) : null,
        p.systemdUnit ? h('div', { class: 'sub' }, p.systemdUnit) : null,
        p.gone ? h('div', { class: 'sub gone' }, 'gone: the last online host running it stopped it') : null),
      h('td', {}, p.mappedService || '—'),
      h('td', { class: 'num' }, String(p.distinctHosts ?? 0)),
      h('td', {}, `${p.onlineHosts ?? 0} online, ${p.staleHosts ?? 0} stale`),
      h('td', { class: 'num' }, String(p.sightings ?? 0)),
      h('td', {}, timeText(p.firstSeen)),
      h('td', {}, timeText(p.lastSeen)),
      h('td', {}, bindScopes(p)),
      h('td', {}, `${p.privilegedSightings ?? 0} privileged, ${p.unprivilegedSightings ?? 0} not`),
      h('td', {}, (p.hostRefs ?? []).join(', ') || '—')));
    section.append(table(
      `${transportText(t.transport)}: ${t.distinctHosts} host(s), ${t.sightings} sighting(s), first ${timeText(t.firstSeen)}, last ${timeText(t.lastSeen)}`,
      ['Process', 'Provides', 'Hosts', 'Listening now', 'Sightings', 'First seen', 'Last seen', 'Bound to', 'Agent', 'Host ids'], rows));
    if (t.withheldProcesses) section.append(h('p', { class: 'hint' }, `${t.withheldProcesses} process(es) seen on too few hosts are not shown.`));
  }
  return section;
}

function bindScopes(p) {
  const scopes = [['wildcard', p.wildcardSightings], ['loopback', p.loopbackSightings], ['specific address', p.specificSightings]]
    .filter(([, n]) => Number(n) > 0).map(([name, n]) => `${name} ×${n}`);
  return scopes.join(', ') || '—';
}

function verdictSection(verdicts) {
  return h('section', { 'aria-labelledby': 'verdict-title' },
    h('h2', { id: 'verdict-title' }, 'Verdict'),
    verdicts.length === 0
      ? h('p', {}, 'No verdict: nothing assigned and nothing observed.')
      : h('ul', { class: 'verdicts' }, verdicts.map((v) => h('li', { 'data-transport': v.transport, 'data-verdict': v.kind },
        h('strong', {}, `${transportText(v.transport)}: `),
        h('span', { class: `verdict vk-${enumText(v.kind, 'VERDICT_KIND_')}` }, verdictText(v.kind)),
        ' — ', v.reason))));
}
