// Hash routes, so that every view is a link to share: #/port/776, #/service/wpages, #/diff?from=..&to=..,
// #/discrepancies?verdict=squatter.
import { token, Unauthenticated, ApiError } from './api.js';
import { h } from './dom.js';
import { renderHome } from './views/home.js';
import { renderPort } from './views/port.js';
import { renderService } from './views/service.js';
import { renderDiff } from './views/diff.js';
import { renderDiscrepancies } from './views/discrepancies.js';
import { renderHosts, renderHost } from './views/hosts.js';

const view = document.getElementById('view');
const status = document.getElementById('status');
const tokenSection = document.getElementById('token');
const tokenMessage = document.getElementById('token-message');
const tokenForm = document.getElementById('token-form');
const tokenInput = document.getElementById('token-input');
const forgetToken = document.getElementById('forget-token');

let rendering = 0;

function parseRoute() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split('?', 2);
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts, query: new URLSearchParams(query) };
}

function viewFor({ parts, query }) {
  switch (parts[0]) {
    case undefined: return (target) => renderHome(target);
    case 'port': return (target) => renderPort(target, parts[1] ?? '');
    case 'service': return (target) => renderService(target, parts[1] ?? '');
    case 'diff': return (target) => renderDiff(target, query);
    case 'discrepancies': return (target) => renderDiscrepancies(target, query);
    case 'hosts': return (target) => renderHosts(target, query);
    case 'host': return (target) => renderHost(target, parts[1] ?? '');
    default: return (target) => target.replaceChildren(h('h1', { tabindex: '-1' }, 'Not found'),
      h('p', {}, 'No such page. '), h('p', {}, h('a', { href: '#/' }, 'Start page')));
  }
}

function askForToken(message) {
  tokenMessage.textContent = message;
  tokenSection.hidden = false;
  forgetToken.hidden = true;
  view.replaceChildren();
  status.textContent = '';
  tokenInput.value = '';
  tokenInput.focus();
}

async function render() {
  const current = ++rendering;
  if (!token.get()) {
    askForToken('Enter a token to read PortHistory (porthistory token issue NAME --role reader).');
    return;
  }
  tokenSection.hidden = true;
  forgetToken.hidden = false;
  // Built off-page, shown when complete: a slower earlier route never overwrites a later one.
  const target = h('div', { class: 'view-body' });
  status.textContent = 'Loading…';
  view.setAttribute('aria-busy', 'true');
  try {
    await viewFor(parseRoute())(target);
    if (current !== rendering) return;
    view.replaceChildren(...target.childNodes);
    status.textContent = '';
    const heading = view.querySelector('h1');
    if (heading && document.activeElement !== document.getElementById('search-input')) heading.focus({ preventScroll: true });
  } catch (error) {
    if (current !== rendering) return;
    if (error instanceof Unauthenticated) {
      token.clear();
      askForToken(`The server refused the token (401 Unauthenticated: ${error.message}). Enter a valid token.`);
      return;
    }
    status.textContent = '';
    const text = error instanceof ApiError
      ? (error.status === 403 ? `This token's role may not read this (403: ${error.message}).` : `The server answered ${error.status}: ${error.message}`)
      : `Could not load this page: ${error.message}`;
    view.replaceChildren(h('h1', { tabindex: '-1' }, 'Error'), h('p', { class: 'error', role: 'alert' }, text));
  } finally {
    if (current === rendering) view.removeAttribute('aria-busy');
  }
}

tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const value = tokenInput.value.trim();
  if (!value) return;
  token.set(value);
  tokenInput.value = '';
  render();
});

forgetToken.addEventListener('click', () => {
  token.clear();
  render();
});

document.getElementById('search').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = document.getElementById('search-input');
  const query = input.value.trim();
  if (!query) return;
  location.hash = /^\d+$/.test(query) ? `#/port/${Number(query)}` : `#/service/${encodeURIComponent(query)}`;
  input.blur();
});

window.addEventListener('hashchange', render);
render();
