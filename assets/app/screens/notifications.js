// «Уведомления»: which bot messages the resident wants (requests, reading reminders, house
// notices). Emergency notices about the house always come. Each switch saves at once.

import { api } from '../api.js?v=2';
import { el, put } from '../dom.js?v=2';
import { registerScreen } from '../router.js?v=2';

const TOPICS = [
  ['requests', 'Заявки', 'Когда по вашей заявке меняется статус или приходит ответ.'],
  ['readings', 'Показания счётчиков', 'Когда начинается и заканчивается приём показаний, когда подходит срок поверки.'],
  ['house_notices', 'Объявления дома', 'Объявления управляющей организации и плановые отключения.'],
];

async function render(root) {
  const settings = await api('GET', '/notifications');
  root.innerHTML = '';
  const status = el('p', { class: 'meta', role: 'status', 'aria-live': 'polite' });
  put(root, el('h1', {}, 'Уведомления'),
    el('p', { class: 'meta' }, 'Сообщения приходят в чат с ботом «Госуслуги Дом» в MAX.'));
  const card = el('div', { class: 'card toggles' });
  for (const [key, label, hint] of TOPICS) {
    const input = el('input', { type: 'checkbox', id: `notify-${key}`, name: key, checked: settings[key] });
    input.addEventListener('change', async () => {
      input.disabled = true;
      try {
        const saved = await api('PUT', '/notifications', { [key]: input.checked });
        for (const [other] of TOPICS) {
          const box = root.querySelector(`#notify-${other}`);
          if (box) box.checked = saved[other];
        }
        status.textContent = 'Сохранено.';
      } catch (error) {
        input.checked = !input.checked;
        status.textContent = error.message;
      } finally {
        input.disabled = false;
      }
    });
    put(card, el('div', { class: 'toggle' }, input,
      el('label', { for: `notify-${key}` }, label, el('span', { class: 'hint' }, hint))));
  }
  put(root, card, status,
    el('p', { class: 'notice' }, 'Сообщения об авариях в доме приходят всегда. Выключить всё остальное можно и командой /stop в чате с ботом, включить — /start.'));
}

registerScreen('notifications', { title: 'Уведомления', render });
