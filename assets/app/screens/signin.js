// «Вход»: sign in with Gosuslugi (ЕСИА).

import { api } from '../api.js?v=2';
import { el, put } from '../dom.js?v=2';
import { registerScreen } from '../router.js?v=2';

const logo = () => {
  const span = el('span', { class: 'logo', 'aria-hidden': 'true' });
  span.innerHTML = '<svg viewBox="0 0 24 24"><path d="M3 11.5 12 4l9 7.5V20a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z" fill="currentColor"/></svg>';
  return span;
};

async function render(root, params) {
  root.innerHTML = '';
  const hero = el('section', { class: 'hero' },
    logo(),
    el('h1', {}, 'Госуслуги Дом'),
    el('p', {}, 'Ваши квартиры, счётчики и заявки в управляющую организацию — прямо в MAX.'));
  put(root, hero);

  if (params.signedOut) {
    put(root, el('p', { class: 'notice', role: 'status' }, 'Вы вышли. Чтобы снова увидеть свои объекты, войдите через Госуслуги.'));
  }
  if (params.error) {
    put(root, el('p', { class: 'notice error', role: 'alert' }, params.error));
  }
  if (params.noLaunch) {
    put(root, el('div', { class: 'card' },
      el('p', {}, 'Откройте приложение из чата с ботом в MAX: кнопка «Открыть» под сообщением бота.'),
      el('p', { class: 'meta' }, 'Если вы уже вошли через Госуслуги в другом окне, вернитесь в MAX.')));
    return;
  }

  const status = el('p', { class: 'notice error', role: 'alert', hidden: true });
  const button = el('button', { type: 'button', class: 'button', id: 'esia-signin' }, 'Войти через Госуслуги');
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.hidden = true;
    try {
      const { url } = await api('POST', '/session/esia');
      window.location.assign(url);
    } catch (error) {
      status.textContent = error.message;
      status.hidden = false;
      button.disabled = false;
    }
  });
  put(root, el('div', { class: 'card' },
    el('p', {}, 'Войдите с подтверждённой учётной записью Госуслуг. Мы найдём ваши помещения в реестре собственников управляющей организации — вводить ничего не нужно.'),
    el('div', { class: 'stack' }, button, status),
    el('p', { class: 'meta' }, 'Мы получаем от Госуслуг только ФИО, дату рождения, СНИЛС и адрес. Никому не сообщайте коды из СМС от Госуслуг.')));
}

registerScreen('signin', { title: 'Вход', render });
