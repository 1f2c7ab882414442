// «Мои объекты»: the person's premises with address, number, area, share, УО and status.

import { api } from '../api.js?v=2';
import { decimal, el, KINDS, put } from '../dom.js?v=2';
import { navigate, registerScreen } from '../router.js?v=2';

export function statusChip(status) {
  return status === 'linked'
    ? el('span', { class: 'chip ok' }, 'Право подтверждено')
    : el('span', { class: 'chip pending' }, 'Ожидает проверки УО');
}

function item(property) {
  const facts = el('div', { class: 'facts' },
    el('span', {}, `${KINDS[property.kind] || 'Помещение'} `, el('strong', {}, `№ ${property.number}`)),
    property.area ? el('span', {}, 'Площадь ', el('strong', {}, `${decimal(property.area)} м²`)) : null,
    property.share ? el('span', {}, 'Доля ', el('strong', {}, property.share)) : null);
  return el('button', {
    type: 'button',
    class: 'card property',
    'data-property-id': property.id,
    onclick: () => navigate('property', { id: property.id }),
  },
  el('div', { class: 'address' }, property.address),
  facts,
  el('p', { class: 'meta' }, `УО: ${property.organisation}`),
  statusChip(property.status));
}

async function render(root) {
  const { items } = await api('GET', '/properties');
  root.innerHTML = '';
  put(root, el('h1', {}, 'Мои объекты'));
  if (items.length === 0) {
    put(root, el('div', { class: 'card' },
      el('p', {}, 'Мы не нашли ваших помещений в реестре собственников.'),
      el('p', { class: 'meta' }, 'Добавьте помещение по номеру лицевого счёта (ЛС) или ЕЛС из квитанции — управляющая организация проверит его.')));
  } else {
    put(root, el('div', { class: 'list', role: 'list' }, items.map((p) => {
      const card = item(p);
      card.setAttribute('role', 'listitem');
      return card;
    })));
  }
  put(root, el('div', { class: 'stack' },
    el('button', { type: 'button', class: 'button secondary', onclick: () => navigate('claim', {}) },
      'Добавить помещение по лицевому счёту'),
    el('button', { type: 'button', class: 'button secondary', onclick: () => navigate('notifications', {}) },
      'Уведомления')));
}

registerScreen('properties', { title: 'Мои объекты', render });
