// The object card: characteristics, accounts, meters with last readings, open requests,
// the house chat, and the actions other screens register (readings, requests).

import { api } from '../api.js?v=2';
import { date, decimal, el, KINDS, RESOURCES, UNITS, put } from '../dom.js?v=2';
import { navigate, propertyActionsList, registerScreen } from '../router.js?v=2';
import { statusChip } from './properties.js?v=2';
import { webApp } from '../bridge.js?v=2';

function row(term, value) {
  return value ? [el('dt', {}, term), el('dd', {}, value)] : [];
}

function reading(meter) {
  const last = meter.last_reading;
  if (!last) return el('div', { class: 'value meta' }, 'нет показаний');
  const unit = UNITS[meter.unit] || meter.unit;
  const values = [last.t1, last.t2, last.t3].filter(Boolean)
    .map((v, i, all) => (all.length > 1 ? `T${i + 1}: ${decimal(v)}` : decimal(v)));
  return el('div', { class: 'value' },
    el('div', {}, `${values.join(' · ')} ${unit}`),
    el('div', { class: 'meta' }, `на ${date(last.taken_on)}`));
}

async function render(root, params) {
  const p = await api('GET', `/properties/${encodeURIComponent(params.id)}`);
  root.innerHTML = '';
  put(root, el('h1', {}, p.address), el('p', { class: 'meta' }, `${KINDS[p.kind] || 'Помещение'} № ${p.number}`), statusChip(p.status));

  put(root, el('h2', {}, 'Характеристики'), el('div', { class: 'card' }, el('dl', { class: 'props' },
    row('Номер', p.number),
    row('Площадь', p.area ? `${decimal(p.area)} м²` : ''),
    row('Доля в праве', p.share || ''),
    row('Кадастровый номер', p.cadastral_number || ''),
    row('Управляющая организация', p.organisation))));

  const actions = propertyActionsList();
  if (actions.length) {
    put(root, el('div', { class: 'stack' }, actions.map((a) => el('button', {
      type: 'button', class: 'button', onclick: () => navigate(a.screen, { propertyId: p.id }),
    }, a.label))));
  }

  put(root, el('h2', {}, 'Лицевые счета'));
  put(root, p.accounts.length
    ? el('div', { class: 'card' }, el('dl', { class: 'props' }, p.accounts.flatMap((a) => [
      ...row('ЛС', a.number), ...row('ЕЛС', a.unified_number || ''), ...row('ИЖКУ', a.service_id || '')])))
    : el('p', { class: 'meta' }, 'Лицевых счетов нет.'));

  put(root, el('h2', {}, 'Счётчики'));
  put(root, p.meters.length
    ? el('div', { class: 'card' }, p.meters.map((m) => el('div', { class: 'meter', 'data-meter-id': m.id },
      el('div', {},
        el('div', {}, RESOURCES[m.resource] || m.resource),
        el('div', { class: 'meta' }, `№ ${m.serial}${m.next_verification ? ` · поверка до ${date(m.next_verification)}` : ''}`)),
      reading(m))))
    : el('p', { class: 'meta' }, 'Счётчиков нет.'));

  put(root, el('h2', {}, 'Заявки'));
  put(root, el('p', { class: 'card' }, p.open_requests
    ? `Открытых заявок: ${p.open_requests}`
    : 'Открытых заявок нет.'));

  put(root, el('h2', {}, 'Домовой чат'), houseChat(p));
}

/** Opens a MAX link inside MAX when the bridge can, else as a plain link. */
function openLink(url, event) {
  const app = webApp();
  if (app && typeof app.openMaxLink === 'function') {
    event.preventDefault();
    try { app.openMaxLink(url); } catch { window.open(url, '_blank', 'noopener'); }
  }
}

function houseChat(p) {
  if (p.status !== 'linked') {
    return el('p', { class: 'card', 'data-house-chat': 'pending' },
      'Чат дома станет доступен, когда управляющая организация подтвердит ваше право на помещение.');
  }
  if (p.house_chat) {
    const title = p.house_chat.title ? `«${p.house_chat.title}»` : 'Чат дома';
    return p.house_chat.link
      ? el('div', { class: 'card', 'data-house-chat': 'bound' },
        el('p', {}, `${title} — официальный чат дома в MAX: объявления управляющей организации и соседи.`),
        el('a', {
          class: 'button', href: p.house_chat.link, target: '_blank', rel: 'noopener',
          onclick: (event) => openLink(p.house_chat.link, event),
        }, 'Открыть домовой чат'))
      : el('p', { class: 'card', 'data-house-chat': 'bound' },
        'У дома есть чат в MAX. Ссылка на него скоро появится здесь — или спросите её в управляющей организации.');
  }
  const box = el('div', { class: 'card', 'data-house-chat': 'none' },
    el('p', {}, 'У вашего дома пока нет чата в MAX, привязанного к «Госуслуги Дом».'));
  if (p.house_chat_requested) {
    put(box, el('p', { class: 'meta' }, 'Вы уже сообщили управляющей организации, что дому нужен чат.'));
    return box;
  }
  const note = el('p', { class: 'meta', role: 'status' });
  const button = el('button', {
    type: 'button',
    class: 'button secondary',
    onclick: async () => {
      button.disabled = true;
      try {
        await api('POST', `/properties/${encodeURIComponent(p.id)}/chat-request`);
        button.remove();
        note.textContent = 'Спасибо! Управляющая организация узнает, что дому нужен чат.';
      } catch (error) {
        button.disabled = false;
        note.textContent = error.message;
      }
    },
  }, 'Сообщить УО, что нужен чат');
  put(box, button, note);
  return box;
}

registerScreen('property', { title: 'Объект', render });
