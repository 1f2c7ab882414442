// Calls to the console API: JSON in and out, the CSRF token on every change, the error
// shape {"error": {"code", "message"}} turned into an ApiError.

const BASE = '/api/console/v1';
let csrfToken = null;

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export function setCsrfToken(token) {
  csrfToken = token;
}

// Called with every 401 except from sign-in itself: the session is gone.
let onSignedOut = () => {};
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'Нет связи с сервером. Проверьте подключение.');
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const error = new ApiError(
      res.status,
      e.code || 'request_failed',
      e.message || 'Запрос не выполнен.',
      res.headers.get('Retry-After'),
    );
    if (res.status === 401 && path !== '/session') onSignedOut(error);
    throw error;
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const del = (path) => api('DELETE', path);

/** Sends a multipart form (a comment with photos) with the CSRF token. */
export async function postForm(path, form) {
  let res;
  try {
    res = await fetch(BASE + path, {
      method: 'POST',
      headers: { Accept: 'application/json', 'X-CSRF-Token': csrfToken || '' },
      credentials: 'same-origin',
      body: form,
    });
  } catch {
    throw new ApiError(0, 'network', 'Нет связи с сервером. Проверьте подключение.');
  }
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(res.status, error.code || 'error', error.message || 'Запрос не выполнен.');
  }
  return data;
}
