// The HTTP/JSON API of the same origin, with the bearer token a person entered for this browser tab.

const TOKEN_KEY = 'porthistory.token';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** The server refused the token (401): the page asks for another one. */
export class Unauthenticated extends Error {}

/** Any other refusal, with the google.rpc.Status message the server sent. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function request(path) {
  const headers = { Accept: 'application/json' };
  const bearer = token.get();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const response = await fetch(path, { headers, credentials: 'omit', cache: 'no-store' });
  if (response.ok) return response;
  const message = await errorMessage(response);
  if (response.status === 401) throw new Unauthenticated(message);
  throw new ApiError(response.status, message);
}

async function errorMessage(response) {
  const text = await response.text();
  try {
    const status = JSON.parse(text);
    if (status && typeof status.message === 'string') return status.message;
  } catch {
    // Not a google.rpc.Status: a proxy's page, say.
  }
  return `${response.status} ${response.statusText}`;
}

export async function getJson(path) {
  return (await request(path)).json();
}

/** A streamed RPC: one JSON object per line; a last line with "code" and "message" is a failure after the first. */
export async function getLines(path) {
  const text = await (await request(path)).text();
  const messages = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const message = JSON.parse(line);
    if (typeof message.code === 'number' && typeof message.message === 'string' && Object.keys(message).length <= 3) {
      throw new ApiError(200, message.message);
    }
    messages.push(message);
  }
  return messages;
}

const port = (n) => encodeURIComponent(String(n));

export const api = {
  port: (n) => getJson(`/v1/ports/${port(n)}`),
  timeline: (n) => getJson(`/v1/ports/${port(n)}/timeline`),
  observed: (n) => getJson(`/v1/ports/${port(n)}/observed`),
  /** GetUsageHistory: from and to are YYYY-MM-DD; granularity a UsageGranularity name. */
  usage: (n, from, to, granularity) => {
    const query = new URLSearchParams({ from, to, granularity, top: '5' });
    return getJson(`/v1/ports/${port(n)}/usage?${query}`);
  },
  service: (name) => getJson(`/v1/services/${encodeURIComponent(name)}`),
  editions: () => getJson('/v1/editions'),
  diff: (from, to, first, last) => {
    const query = new URLSearchParams({ from_edition: from, to_edition: to });
    if (first !== '' && last !== '') {
      query.set('ports.first', first);
      query.set('ports.last', last);
    }
    return getLines(`/v1/diff?${query}`);
  },
  hosts: (state, group, pageToken) => {
    const query = new URLSearchParams({ page_size: '500' });
    if (state) query.set('state', state);
    if (group) query.set('host_group', group);
    if (pageToken) query.set('page_token', pageToken);
    return getJson(`/v1/hosts?${query}`);
  },
  host: (hostRef) => getJson(`/v1/hosts/${encodeURIComponent(hostRef)}`),
  discrepancies: (verdicts, transport, first, last) => {
    const query = new URLSearchParams();
    verdicts.forEach((v) => query.append('verdicts', v));
    if (transport) query.set('transport', transport);
    if (first !== '' && last !== '') {
      query.set('range.first', first);
      query.set('range.last', last);
    }
    return getLines(`/v1/discrepancies?${query}`);
  },
};
