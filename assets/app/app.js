// Start-up: read MAX launch data, open a session, finish a ЕСИА sign-in, pick the screen.

import { api, setToken, token, ApiError } from './api.js?v=2';
import { applyTheme, forgetFragment, launchData, ready } from './bridge.js?v=2';
import { back, navigate, reset, onNavigate } from './router.js?v=2';
import './screens/signin.js?v=2';
import './screens/properties.js?v=2';
import './screens/property.js?v=2';
import './screens/claim.js?v=2';
import { startParam } from './screens/readings.js?v=2';
import './screens/requests.js?v=2';
import './screens/notifications.js?v=2';

let launch = '';

/** Opens a session from the launch data, if there is any. */
async function openSession() {
  if (!launch) return false;
  const session = await api('POST', '/session', { init_data: launch });
  setToken(session.token);
  return true;
}

/** The query's `esia` completion code, removed from the address bar. */
function takeCompletionCode() {
  const params = new URLSearchParams(window.location.search);
  const code = params.get('esia');
  if (code) {
    params.delete('esia');
    const rest = params.toString();
    history.replaceState(null, '', window.location.pathname + (rest ? `?${rest}` : ''));
  }
  return code;
}

/**
 * Opened without launch data in the sandbox (the MAX simulator's page exists only there):
 * a link to the simulator, where «Открыть» brings launch data. Production shows nothing more.
 */
async function offerSimulator() {
  try {
    const res = await fetch('/dev/max/', { method: 'HEAD' });
    if (!res.ok) return;
  } catch {
    return;
  }
  const screen = document.getElementById('screen');
  if (!screen || screen.querySelector('#sandbox-simulator')) return;
  const link = document.createElement('a');
  link.href = '/dev/max';
  link.target = '_top';
  link.className = 'button';
  link.textContent = 'Открыть симулятор MAX';
  const card = document.createElement('div');
  card.className = 'card';
  card.id = 'sandbox-simulator';
  const note = document.createElement('p');
  note.textContent = 'Песочница: чат с ботом MAX можно открыть в симуляторе.';
  card.append(note, link);
  screen.append(card);
}

/** The sign-in screen for a page opened without MAX launch data. */
async function withoutLaunch(params) {
  await reset('signin', { ...params, noLaunch: true });
  await offerSimulator();
}

export async function start() {
  const completion = takeCompletionCode();
  if (!token() || launch) {
    try {
      if (!(await openSession())) {
        return token() ? reset('signin', { noLaunch: false }) : withoutLaunch({});
      }
    } catch (error) {
      return withoutLaunch({ error: error.message });
    }
  }
  if (completion) {
    try {
      await api('POST', '/session/esia/complete', { code: completion });
    } catch (error) {
      return reset('signin', { error: error.message });
    }
  }
  let me;
  try {
    me = await api('GET', '/me');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      setToken(null);
      return reset('signin', { noLaunch: !launch, error: launch ? error.message : null });
    }
    return reset('signin', { error: error.message });
  }
  if (!me.signed_in) return reset('signin', {});
  await reset('properties', { me });
  // A deep link opens its screen over the list: `readings` (the reminders' «Открыть»)
  // opens «Показания», `request_<id>` (a request notice's «Открыть») that request's card.
  const param = startParam() || '';
  if (param === 'readings') return navigate('readings', {});
  const request = param.match(/^request_(\d+)$/);
  if (request) return navigate('request', { id: Number(request[1]) });
  return null;
}

/** Sign-out: the session ends; with launch data still at hand a fresh one is opened. */
export async function signOut() {
  try { await api('DELETE', '/session'); } catch { /* already gone */ }
  setToken(null);
  try { await openSession(); } catch { /* the sign-in screen explains */ }
  reset('signin', { signedOut: true, noLaunch: !launch });
}

function init() {
  applyTheme();
  launch = launchData();
  forgetFragment();
  ready();
  document.getElementById('back').addEventListener('click', back);
  document.getElementById('signout').addEventListener('click', signOut);
  onNavigate((entry) => {
    document.getElementById('signout').hidden = entry.name === 'signin';
  });
  start();
}

init();
