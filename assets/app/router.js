// Named screens and a stack of them. Other parts of the app add their screens here:
//   import { registerScreen, registerPropertyAction } from './router.js?v=2';
//   registerScreen('readings', { title: 'Показания', render: async (root, params) => { ... } });
//   registerPropertyAction({ label: 'Передать показания', screen: 'readings' });
// «Показания» (`readings`) and «Заявки» (`requests`) are expected to register this way.

import { setBackButton } from './bridge.js?v=2';

const screens = new Map();
const propertyActions = [];
const stack = [];
let onChange = () => {};

export function registerScreen(name, screen) {
  screens.set(name, screen);
}

export function hasScreen(name) {
  return screens.has(name);
}

/** A button on the object card that opens `screen` with `{ propertyId }`. */
export function registerPropertyAction(action) {
  propertyActions.push(action);
}

export function propertyActionsList() {
  return propertyActions.filter((a) => screens.has(a.screen));
}

export function onNavigate(handler) {
  onChange = handler;
}

export function current() {
  return stack[stack.length - 1] || null;
}

/** Opens a screen on top of the current one. */
export function navigate(name, params = {}) {
  stack.push({ name, params });
  return show();
}

/** Replaces the whole stack with one screen (after sign-in or sign-out). */
export function reset(name, params = {}) {
  stack.length = 0;
  return navigate(name, params);
}

export function back() {
  if (stack.length > 1) {
    stack.pop();
    show();
  }
}

async function show() {
  const entry = current();
  const screen = screens.get(entry.name);
  const root = document.getElementById('screen');
  if (!screen) {
    root.innerHTML = '<p class="notice error">Раздел пока недоступен.</p>';
    return;
  }
  document.title = screen.title ? `${screen.title} — Госуслуги Дом` : 'Госуслуги Дом';
  const canGoBack = stack.length > 1;
  const backButton = document.getElementById('back');
  backButton.hidden = !canGoBack;
  setBackButton(canGoBack ? back : null);
  root.innerHTML = '<div class="loading" role="status"><span class="spinner" aria-hidden="true"></span>Загрузка…</div>';
  onChange(entry);
  try {
    await screen.render(root, entry.params);
  } catch (error) {
    if (screen.onError && screen.onError(error)) return;
    root.innerHTML = '';
    const note = document.createElement('p');
    note.className = 'notice error';
    note.setAttribute('role', 'alert');
    note.textContent = error.message || 'Что-то пошло не так.';
    root.append(note);
  }
  const heading = root.querySelector('h1');
  if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
}
