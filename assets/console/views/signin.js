// The sign-in screen.

import { post } from '../api.js';
import { h, clear } from '../dom.js';

export function renderSignIn(root, onSignedIn) {
  const message = h('p', { class: 'error', role: 'alert', hidden: true });
  const login = h('input', { name: 'login', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Войти');

  const form = h(
    'form',
    {
      class: 'signin card',
      onsubmit: async (event) => {
        event.preventDefault();
        message.hidden = true;
        button.disabled = true;
        try {
          onSignedIn(await post('/session', { login: login.value, password: password.value }));
        } catch (error) {
          message.textContent = error.message;
          message.hidden = false;
          password.value = '';
          password.focus();
        } finally {
          button.disabled = false;
        }
      },
    },
    h('h1', {}, 'Консоль управляющей организации'),
    h('p', { class: 'note' }, 'Госуслуги Дом в MAX'),
    h('label', {}, 'Логин', login),
    h('label', {}, 'Пароль', password),
    message,
    button,
  );
  document.title = 'Вход — консоль УО';
  clear(root, h('div', { class: 'signin-page' }, form));
  login.focus();
}
