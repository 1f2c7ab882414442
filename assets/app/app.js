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

export async function start() {
  const completion = takeCompletionCode();
  if (!token() || launch) {
    try {
      if (!(await openSession())) {
        return reset('signin', { noLaunch: !token() });
      }
    } catch (error) {
      return reset('signin', { error: error.message, noLaunch: true });
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
