// «Заявки»: the УО's queue with filters (status, category, house, overdue, emergency,
// source), soonest deadline first, and the request card with its history and actions:
// status with reason, assignee, deadline, comment or internal note.

import { get, post, postForm } from '../api.js';
import { clear, errorBox, h, heading, when, put } from '../dom.js';

const STATUSES = [
  ['', 'Открытые'], ['new', 'Новые'], ['in_work', 'В работе'], ['deferred', 'Отложенные'],
  ['done', 'Выполненные'], ['reopened', 'Возвращённые'], ['declined', 'Отклонённые'],
  ['closed', 'Закрытые'], ['all', 'Все'],
];
// Button labels of the status actions; the card's `actions` says which are legal now.
const ACTION_LABELS = { in_work: 'В работу', deferred: 'Отложить', done: 'Выполнена', declined: 'Отклонить', closed: 'Закрыть' };

function query(filters) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

const SELECT_LABELS = { status: 'Статус', category: 'Категория', house_id: 'Дом', source: 'Источник' };

function select(name, options, value) {
  return h('select', { name, 'aria-label': SELECT_LABELS[name] || name }, ...options.map(([v, label]) => {
    const option = h('option', { value: v }, label);
    if (v === value) option.selected = true;
    return option;
  }));
}

const AUTHOR_ROLES = { resident: 'Житель', staff: 'Сотрудник УО', gis: 'ГИС ЖКХ', system: 'Система' };

// Only the moves the request rules allow from the current status; reason and date fields
// only when one of them needs it.
function statusActions(actions, reason, until, act) {
  if (actions.length === 0) return h('p', { class: 'note' }, 'Статус больше не меняется.');
  const needsReason = actions.some((a) => a.status === 'deferred' || a.status === 'declined');
  const canDefer = actions.some((a) => a.status === 'deferred');
  return h('div', { class: 'actions' },
    needsReason ? reason : null,
    canDefer ? until : null,
    ...actions.map(({ status, label }) => h('button', {
      type: 'button',
      'data-status': status,
      onclick: () => act('/status', {
        status,
        reason: reason.value || null,
        deferred_until: status === 'deferred' ? (until.value || null) : null,
      }),
    }, ACTION_LABELS[status] || label)));
}

async function showCard(panel, id, reload) {
  clear(panel);
  let r;
  try { r = await get(`/requests/${id}`); } catch (error) { put(panel, errorBox(error)); return; }
  const act = async (path, body) => {
    try { await post(`/requests/${id}${path}`, body); await reload(); await showCard(panel, id, reload); } catch (error) { panel.prepend(errorBox(error)); }
  };
  const reason = h('input', { type: 'text', placeholder: 'Причина (для отказа и отсрочки обязательна)' });
  const until = h('input', { type: 'date', 'aria-label': 'Отложить до' });
  const assignee = h('input', { type: 'text', value: r.assignee || '', placeholder: 'Исполнитель' });
  const deadline = h('input', { type: 'datetime-local', 'aria-label': 'Новый срок' });
  const deadlineReason = h('input', { type: 'text', placeholder: 'Почему срок меняется' });
  const note = h('textarea', { rows: 3, placeholder: 'Комментарий' });
  const visible = h('input', { type: 'checkbox' });
  put(panel,
    h('h3', {}, `Заявка № ${r.number}`),
    h('p', {}, `${r.problem_title} · ${r.address}${r.premise_number ? `, кв. ${r.premise_number}` : ''}`),
    h('p', { class: 'note' }, `${r.status_label}${r.emergency ? ' · аварийная' : ''}${r.deadline_at ? ` · срок ${when(r.deadline_at)}` : ''}${r.overdue ? ' · просрочена' : ''}`),
    h('p', {}, r.text),
    h('ol', { class: 'timeline' }, ...r.events.map((e) => h('li', {},
      h('span', { class: 'note' }, `${when(e.created_at)} · ${e.author_name || AUTHOR_ROLES[e.author_role] || e.author_role}${e.visible ? '' : ' · внутренняя заметка'}`),
      e.status_label ? h('strong', {}, ` ${e.status_label}`) : '',
      e.text ? h('p', {}, e.text) : '',
      ...(e.photos || []).map((p) => h('a', { href: `/api/console/v1/requests/${id}/photos/${p}`, target: '_blank', rel: 'noopener' }, 'фото '))))),
    ...(r.photos || []).filter((p) => !p.event_id).map((p) => h('a', { href: `/api/console/v1/requests/${id}/photos/${p.id}`, target: '_blank', rel: 'noopener' }, 'фото заявки ')),
    statusActions(r.actions || [], reason, until, act),
    h('div', { class: 'actions' }, assignee, h('button', { type: 'button', onclick: () => act('/assign', { assignee: assignee.value }) }, 'Назначить')),
    h('div', { class: 'actions' }, deadline, deadlineReason, h('button', {
      type: 'button',
      onclick: () => deadline.value && act('/deadline', { deadline_at: new Date(deadline.value).toISOString(), reason: deadlineReason.value }),
    }, 'Изменить срок')),
    h('div', { class: 'actions' }, note, h('label', { class: 'check' }, visible, 'видно жителю'), h('button', {
      type: 'button',
      onclick: async () => {
        const form = new FormData();
        form.append('comment', JSON.stringify({ text: note.value, visible: visible.checked }));
        try {
          await postForm(`/requests/${id}/comments`, form);
          await showCard(panel, id, reload);
        } catch (error) { panel.prepend(errorBox(error)); }
      },
    }, 'Добавить комментарий')),
  );
}

export async function render(container) {
  const filters = { status: '', category: '', house_id: '', overdue: '', emergency: '', source: '' };
  const { houses } = await get('/houses');
  let categories = [];
  try {
    const tree = await get('/requests/categories');
    const seen = new Map();
    for (const place of tree.places) for (const c of place.categories) if (!seen.has(c.code)) seen.set(c.code, c.title);
    categories = [...seen.entries()].sort((a, b) => a[1].localeCompare(b[1], 'ru'));
  } catch { /* the filter then offers only «Все категории» */ }
  const table = h('div', { class: 'table-wrap card' });
  const panel = h('div', { class: 'card request-card' });
  const bar = h('form', { class: 'filters' },
    select('status', STATUSES, ''),
    select('category', [['', 'Все категории'], ...categories], ''),
    select('house_id', [['', 'Все дома'], ...houses.map((house) => [String(house.id), house.address])], ''),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'overdue' }), 'просроченные'),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'emergency' }), 'аварийные'),
    select('source', [['', 'Все источники'], ['app', 'Приложение'], ['gis', 'ГИС ЖКХ'], ['operator', 'Оператор']], ''),
    h('button', { type: 'submit' }, 'Показать'));
  const reload = async () => {
    clear(table);
    let queue;
    try { queue = await get(`/requests${query(filters)}`); } catch (error) { put(table, errorBox(error)); return; }
    if (queue.requests.length === 0) { put(table, h('p', { class: 'empty' }, 'Заявок нет.')); return; }
    put(table, h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, ...['№', 'Проблема', 'Адрес', 'Статус', 'Срок', 'Исполнитель'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...queue.requests.map((r) => h('tr', { 'data-request-id': String(r.id), class: r.overdue ? 'overdue' : '', onclick: () => showCard(panel, r.id, reload) },
        h('td', {}, r.number),
        h('td', {}, `${r.emergency ? '⚠ ' : ''}${r.problem_title}`),
        h('td', {}, `${r.address}${r.premise_number ? `, кв. ${r.premise_number}` : ''}`),
        h('td', {}, r.status_label),
        h('td', {}, r.deadline_at ? when(r.deadline_at) : '—'),
        h('td', {}, r.assignee || '—'))))));
  };
  bar.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(bar);
    filters.status = data.get('status') || '';
    filters.category = (data.get('category') || '').trim();
    filters.house_id = data.get('house_id') || '';
    filters.overdue = data.get('overdue') ? 'true' : '';
    filters.emergency = data.get('emergency') ? 'true' : '';
    filters.source = data.get('source') || '';
    reload();
  });
  put(container, heading('Заявки', 'Очередь заявок жителей, ближайший срок — первым.'), bar, table, panel);
  await reload();
}
