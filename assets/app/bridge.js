// MAX's mini-app bridge (window.WebApp from max-web-app.js), with fallbacks for a plain
// browser and the sandbox simulator, which passes launch data in the URL fragment.

export const webApp = () => window.WebApp || null;

/** The raw launch data: `WebApp.initData`, or the `#WebAppData=` fragment. */
export function launchData() {
  const app = webApp();
  if (app && typeof app.initData === 'string' && app.initData) return app.initData;
  const match = window.location.hash.match(/(?:^#|&)WebAppData=([^&]*)/);
  if (!match) return '';
  try { return decodeURIComponent(match[1]); } catch { return ''; }
}

/** Drops the launch data from the address bar once read. */
export function forgetFragment() {
  if (window.location.hash.includes('WebAppData=')) {
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
}

export function ready() {
  const app = webApp();
  try { if (app && typeof app.ready === 'function') app.ready(); } catch { /* not in MAX */ }
}

/** Shows MAX's back button while `handler` is set; hides it for null. */
export function setBackButton(handler) {
  const app = webApp();
  const button = app && app.BackButton;
  if (!button) return;
  try {
    if (bridgeBack) button.offClick?.(bridgeBack);
    bridgeBack = handler;
    if (handler) { button.onClick?.(handler); button.show?.(); } else { button.hide?.(); }
  } catch { /* older bridge */ }
}
let bridgeBack = null;

/** Follows MAX's colour scheme when it tells one; else the system's. */
export function applyTheme() {
  const app = webApp();
  const scheme = app && (app.colorScheme || (app.themeParams && app.themeParams.color_scheme));
  if (scheme === 'dark' || scheme === 'light') {
    document.documentElement.dataset.theme = scheme;
  }
}
