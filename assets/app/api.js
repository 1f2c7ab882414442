// The resident API: one place that knows the session token and the error shape.

const TOKEN_KEY = 'gosdom.session';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function token() {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch { return null; }
}

export function setToken(value) {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage may be off in a WebView: the token then lives for this page only */ }
  memoryToken = value;
}

let memoryToken = null;

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const current = token() || memoryToken;
  if (current) headers.Authorization = `Bearer ${current}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'Нет связи с сервером. Проверьте интернет и попробуйте ещё раз.');
  }
  if (response.status === 204) return null;
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    throw new ApiError(response.status, error.code || 'error', error.message || 'Запрос не выполнен.');
  }
  return data;
}

/** Sends a multipart form (photos with a JSON part); answers like `api`. */
export async function apiForm(path, form) {
  const headers = { Accept: 'application/json' };
  const current = token() || memoryToken;
  if (current) headers.Authorization = `Bearer ${current}`;
  let response;
  try {
    response = await fetch(`/api/v1${path}`, { method: 'POST', headers, body: form });
  } catch {
    throw new ApiError(0, 'network', 'Нет связи с сервером. Проверьте интернет и попробуйте ещё раз.');
  }
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    throw new ApiError(response.status, error.code || 'error', error.message || 'Запрос не выполнен.');
  }
  return data;
}

/** A photo of the session's request as an object URL for an <img>. */
export async function photoUrl(path) {
  const headers = {};
  const current = token() || memoryToken;
  if (current) headers.Authorization = `Bearer ${current}`;
  const response = await fetch(`/api/v1${path}`, { headers });
  if (!response.ok) throw new ApiError(response.status, 'photo', 'Фото не загрузилось.');
  return URL.createObjectURL(await response.blob());
}
