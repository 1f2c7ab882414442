// The console shell: sign-in, the layout with navigation, and a router over the screens.
// A screen is an ES module in views/ exporting `render(container, ctx)`; add one by adding
// a line to SCREENS.

import { get, del, setCsrfToken, whenSignedOut } from './api.js';
import { h, clear, errorBox } from './dom.js';
import { renderSignIn } from './views/signin.js';

const ROOT = '/console';

export const SCREENS = [
  { path: 'requests', label: 'Заявки', module: './views/requests.js' },
  { path: 'readings', label: 'Показания', module: './views/readings.js' },
  { path: 'houses', label: 'Дома и чаты', module: './views/houses.js' },
  { path: 'register', label: 'Реестр собственников', module: './views/register.js', admin: true },
  { path: 'announcements', label: 'Объявления', module: './views/announcements.js' },
  { path: 'exchange', label: 'Обмен с ГИС ЖКХ', module: './views/exchange.js' },
  { path: 'usage', label: 'Статистика', module: './views/usage.js' },
  { path: 'users', label: 'Пользователи', module: './views/users.js', admin: true },
];
// The first screen: «Заявки», the dispatcher's daily work, for a УО's staff; a regional
// admin belongs to no УО (requests answer 403 for them) and opens on «Дома и чаты».
const defaultScreen = () => (me && me.organisation ? 'requests' : 'houses');

const ROLE_NAMES = { admin: 'администратор', operator: 'оператор' };

const root = document.getElementById('root');
let me = null;
let main = null;
let nav = null;

function screenOf(pathname) {
  const rest = pathname.startsWith(ROOT) ? pathname.slice(ROOT.length) : '';
  const name = rest.replace(/^\/+/, '').split('/')[0];
  const screen = SCREENS.find((s) => s.path === name && (!s.admin || me.role === 'admin'));
  return screen || SCREENS.find((s) => s.path === defaultScreen());
}

export function navigate(path, replace = false) {
  const url = `${ROOT}/${path}`;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  show();
}

// Each show() gets a number; a slower earlier one must not replace a newer screen.
let shown = 0;

async function show() {
  if (!me || !main) return;
  const turn = ++shown;
  const screen = screenOf(location.pathname);
  for (const link of nav.querySelectorAll('a')) {
    link.toggleAttribute('aria-current', link.dataset.path === screen.path);
    if (link.dataset.path === screen.path) link.setAttribute('aria-current', 'page');
  }
  document.title = `${screen.label} — консоль УО`;
  clear(main, h('p', { class: 'loading' }, 'Загрузка…'));
  try {
    const view = await import(screen.module);
    const container = h('section', { class: 'screen' });
    await view.render(container, { me, navigate });
    if (turn === shown) clear(main, container);
  } catch (error) {
    if (turn === shown) clear(main, errorBox(error));
  }
}

function layout() {
  nav = h(
    'nav',
    { class: 'nav', 'aria-label': 'Разделы' },
    SCREENS.filter((s) => !s.admin || me.role === 'admin').map((s) =>
      h(
        'a',
        {
          href: `${ROOT}/${s.path}`,
          'data-path': s.path,
          onclick: (event) => {
            if (event.ctrlKey || event.metaKey || event.shiftKey) return;
            event.preventDefault();
            navigate(s.path);
          },
        },
        s.label,
      ),
    ),
  );
  const who = [me.login, ROLE_NAMES[me.role] || me.role, me.organisation ? me.organisation.name : 'все УО региона'];
  main = h('main', { class: 'main', id: 'main' });
  clear(root,
    h(
      'div',
      { class: 'shell' },
      h(
        'aside',
        { class: 'side' },
        h('div', { class: 'brand' }, h('strong', {}, 'Госуслуги Дом'), h('span', {}, 'консоль УО')),
        nav,
        h(
          'div',
          { class: 'who' },
          h('span', { class: 'who-name' }, who[0]),
          h('span', { class: 'who-role' }, `${who[1]} · ${who[2]}`),
          h('button', { type: 'button', class: 'link', onclick: signOut }, 'Выйти'),
        ),
      ),
      main,
    ),
  );
}

async function signOut() {
  try {
    await del('/session');
  } catch {
    // Signed out already, or the server is gone: the sign-in screen is right either way.
  }
  signedOut();
}

function signedOut() {
  me = null;
  main = null;
  setCsrfToken(null);
  renderSignIn(root, signedIn);
}

function signedIn(session) {
  me = session;
  setCsrfToken(me.csrf_token);
  layout();
  show();
}

whenSignedOut(signedOut);
window.addEventListener('popstate', show);

async function start() {
  try {
    signedIn(await get('/me'));
  } catch (error) {
    if (error.status === 401) signedOut();
    else clear(root, errorBox(error));
  }
}

start();
