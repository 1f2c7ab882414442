// The object card: characteristics, accounts, meters with last readings, open requests,
// the house chat, and the actions other screens register (readings, requests).

import { api } from '../api.js?v=1';
import { date, decimal, el, KINDS, RESOURCES, UNITS } from '../dom.js?v=1';
import { navigate, propertyActionsList, registerScreen } from '../router.js?v=1';
import { statusChip } from './properties.js?v=1';

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
  root.append(el('h1', {}, p.address), el('p', { class: 'meta' }, `${KINDS[p.kind] || 'Помещение'} № ${p.number}`), statusChip(p.status));

  root.append(el('h2', {}, 'Характеристики'), el('div', { class: 'card' }, el('dl', { class: 'props' },
    row('Номер', p.number),
    row('Площадь', p.area ? `${decimal(p.area)} м²` : ''),
    row('Доля в праве', p.share || ''),
    row('Кадастровый номер', p.cadastral_number || ''),
    row('Управляющая организация', p.organisation))));

  const actions = propertyActionsList();
  if (actions.length) {
    root.append(el('div', { class: 'stack' }, actions.map((a) => el('button', {
      type: 'button', class: 'button', onclick: () => navigate(a.screen, { propertyId: p.id }),
    }, a.label))));
  }

  root.append(el('h2', {}, 'Лицевые счета'));
  root.append(p.accounts.length
    ? el('div', { class: 'card' }, el('dl', { class: 'props' }, p.accounts.flatMap((a) => [
      ...row('ЛС', a.number), ...row('ЕЛС', a.unified_number || ''), ...row('ИЖКУ', a.service_id || '')])))
    : el('p', { class: 'meta' }, 'Лицевых счетов нет.'));

  root.append(el('h2', {}, 'Счётчики'));
  root.append(p.meters.length
    ? el('div', { class: 'card' }, p.meters.map((m) => el('div', { class: 'meter', 'data-meter-id': m.id },
      el('div', {},
        el('div', {}, RESOURCES[m.resource] || m.resource),
        el('div', { class: 'meta' }, `№ ${m.serial}${m.next_verification ? ` · поверка до ${date(m.next_verification)}` : ''}`)),
      reading(m))))
    : el('p', { class: 'meta' }, 'Счётчиков нет.'));

  root.append(el('h2', {}, 'Заявки'));
  root.append(el('p', { class: 'card' }, p.open_requests
    ? `Открытых заявок: ${p.open_requests}`
    : 'Открытых заявок нет.'));

  if (p.house_chat) {
    root.append(el('h2', {}, 'Домовой чат'));
    root.append(p.house_chat.link
      ? el('a', { class: 'button secondary', href: p.house_chat.link, target: '_blank', rel: 'noopener' }, 'Открыть домовой чат')
      : el('p', { class: 'card' }, 'У дома есть чат в MAX. Ссылку на него можно попросить в управляющей организации.'));
  }
}

registerScreen('property', { title: 'Объект', render });
