// The public HTTP API (../shared/API.md), as every other client uses it: bearer token,
// JSON bodies, errors as {error: {code, message}}.

const TOKEN_KEY = 'dialtone.session';
const VAULT_KEY = 'dialtone.vault';
/** Written forms of the numbers this user saw (phones.js); they go with the login. */
export const PHONE_FORMS_KEY = 'dialtone.phone-forms';

/** A failed call: HTTP status, the contract's stable error code, Retry-After seconds. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

function readJson(storage, key) {
  try { return JSON.parse(storage.getItem(key) || 'null'); } catch { return null; }
}

/** This browser's login: {token, user_id, phone}, kept across reloads. */
export const session = {
  get current() { return readJson(localStorage, TOKEN_KEY); },
  get token() { return this.current?.token ?? null; },
  save({ token, user_id, phone }) {
    localStorage.setItem(TOKEN_KEY, JSON.stringify({ token, user_id, phone }));
  },
  clear() {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(PHONE_FORMS_KEY);
    sessionStorage.removeItem(VAULT_KEY);
  },
  /** The hidden-contacts vault token while it is valid (kept for this tab only). */
  get vaultToken() {
    const vault = readJson(sessionStorage, VAULT_KEY);
    if (!vault || new Date(vault.expires_at).getTime() <= Date.now()) return null;
    return vault.vault_token;
  },
  saveVault(vault) { sessionStorage.setItem(VAULT_KEY, JSON.stringify(vault)); },
  lockVault() { sessionStorage.removeItem(VAULT_KEY); },
};

function authHeaders(extra = {}) {
  const headers = { ...extra };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  const vault = session.vaultToken;
  if (vault) headers['X-Vault-Token'] = vault;
  return headers;
}

async function failure(response) {
  let code = 'http_' + response.status;
  let message = response.statusText;
  try {
    const body = await response.json();
    code = body?.error?.code ?? code;
    message = body?.error?.message ?? message;
  } catch { /* not JSON */ }
  const retry = Number(response.headers.get('Retry-After'));
  if (response.status === 401 && session.token) {
    session.clear();
    window.dispatchEvent(new CustomEvent('dialtone:logged-out'));
  }
  return new ApiError(response.status, code, message, Number.isFinite(retry) && retry > 0 ? retry : null);
}

/**
 * Calls the API: api('/v1/contacts'), api('/v1/presence', {method: 'PUT', body: {...}}).
 * Resolves to the parsed JSON (null for 204); rejects with ApiError.
 * `raw` sends a Blob/ArrayBuffer body as is, with `contentType`.
 */
export async function api(path, { method = 'GET', body, raw, contentType, headers = {}, signal } = {}) {
  const init = { method, headers: authHeaders(headers), signal };
  if (raw !== undefined) {
    init.body = raw;
    init.headers['Content-Type'] = contentType || 'application/octet-stream';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', e.message);
  }
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/**
 * Uploads bytes with progress (fetch has no upload progress): POST path, resolves to the
 * parsed JSON. onProgress(fraction 0..1).
 */
export function upload(path, blob, { contentType, onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader('Content-Type', contentType || blob.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText || 'null'); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body?.error?.code ?? 'http_' + xhr.status, body?.error?.message));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'upload failed'));
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(blob);
  });
}

const blobUrls = new Map();
/**
 * An object URL for an authenticated download (attachments need the bearer token, which
 * <img src> cannot send). Cached for the page's life.
 */
export function blobUrl(path) {
  if (!blobUrls.has(path)) {
    const pending = fetch(path, { headers: authHeaders() }).then(async (response) => {
      if (!response.ok) throw await failure(response);
      return URL.createObjectURL(await response.blob());
    });
    pending.catch(() => blobUrls.delete(path));
    blobUrls.set(path, pending);
  }
  return blobUrls.get(path);
}

/** A name for this device in the devices list, from what the browser says it runs on. */
export function deviceName() {
  const platform = navigator.userAgentData?.platform || navigator.platform || '';
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox'
    : /Chrome\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  return `${browser} ${platform}`.trim().slice(0, 64);
}
