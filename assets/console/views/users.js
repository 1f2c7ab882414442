// «Пользователи» (admins): staff accounts, adding one, disabling one.

import { get, post } from '../api.js';
import { h, heading, when, clear, errorBox, put } from '../dom.js';

const ROLE_NAMES = { admin: 'администратор', operator: 'оператор' };
const ACTIONS = {
  'session.start': 'вход в консоль',
  'session.end': 'выход из консоли',
  'user.add': 'добавлена учётная запись',
  'user.disable': 'учётная запись отключена',
  'user.password': 'сменён пароль',
  'outbox.retry': 'повтор задания обмена',
  'chat.code': 'код привязки чата',
  'chat.bind': 'чат привязан к дому',
  'chat.unbind': 'чат отвязан от дома',
  'chat.bot_removed': 'бот удалён из чата дома',
  'announcement.create': 'объявление',
  'announcement.cancel': 'объявление отменено',
  'readings.export': 'выгрузка показаний',
  'register.import': 'загрузка реестра',
};

async function auditLog() {
  const { entries } = await get('/audit');
  if (entries.length === 0) return h('p', { class: 'empty card' }, 'Записей пока нет.');
  return h(
    'details',
    { class: 'card' },
    h('summary', {}, `Последние действия (${entries.length})`),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Когда'), h('th', {}, 'Кто'), h('th', {}, 'Действие'), h('th', {}, 'Объект'))),
        h(
          'tbody',
          {},
          entries.map((e) =>
            h(
              'tr',
              {},
              h('td', { class: 'when' }, when(e.at)),
              h('td', {}, e.actor_login || (e.actor === 'cli' ? 'командная строка сервера' : e.actor)),
              h('td', {}, ACTIONS[e.action] || e.action),
              h('td', {}, e.object),
            ),
          ),
        ),
      ),
    ),
  );
}

export async function render(container, { me }) {
  const list = h('div', {});
  const [{ organisations }] = await Promise.all([get('/organisations')]);

  async function refresh() {
    const { users } = await get('/users');
    clear(list,
      h(
        'div',
        { class: 'table-wrap card' },
        h(
          'table',
          { class: 'table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Логин'), h('th', {}, 'Роль'), h('th', {}, 'УО'), h('th', {}, 'Создан'), h('th', {}, 'Состояние'), h('th', {}, ''))),
          h('tbody', {}, users.map((user) => row(user))),
        ),
      ),
    );
  }

  function row(user) {
    const status = h('span', { class: 'row-status' });
    const disable =
      user.disabled_at || user.id === me.id
        ? null
        : h(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: async () => {
                if (!confirm(`Отключить ${user.login}? Вход для этой учётной записи будет закрыт.`)) return;
                try {
                  await post(`/users/${user.id}/disable`);
                  await refresh();
                } catch (error) {
                  clear(status, errorBox(error));
                }
              },
            },
            'Отключить',
          );
    return h(
      'tr',
      { class: user.disabled_at ? 'muted' : null },
      h('td', {}, user.login, user.id === me.id ? ' (вы)' : ''),
      h('td', {}, ROLE_NAMES[user.role] || user.role),
      h('td', {}, user.organisation_name || 'все УО региона'),
      h('td', { class: 'when' }, when(user.created_at)),
      h('td', {}, user.disabled_at ? `отключён ${when(user.disabled_at)}` : 'активен'),
      h('td', {}, disable, status),
    );
  }

  const message = h('p', { class: 'error', role: 'alert', hidden: true });
  const login = h('input', { name: 'login', required: true, pattern: '[A-Za-z0-9._\\-]{2,64}', autocomplete: 'off' });
  const role = h('select', { name: 'role' }, h('option', { value: 'operator' }, 'оператор'), h('option', { value: 'admin' }, 'администратор'));
  const organisation = h(
    'select',
    { name: 'organisation_id' },
    organisations.map((o) => h('option', { value: o.id, selected: me.organisation && me.organisation.id === o.id }, o.name)),
    me.organisation ? null : h('option', { value: '' }, 'все УО региона (только администратор)'),
  );
  const password = h('input', { name: 'password', type: 'password', required: true, minlength: 10, autocomplete: 'new-password' });
  const form = h(
    'form',
    {
      class: 'card form-grid',
      onsubmit: async (event) => {
        event.preventDefault();
        message.hidden = true;
        try {
          await post('/users', {
            login: login.value,
            role: role.value,
            organisation_id: organisation.value === '' ? null : Number(organisation.value),
            password: password.value,
          });
          form.reset();
          await refresh();
        } catch (error) {
          message.textContent = error.message;
          message.hidden = false;
        }
      },
    },
    h('h2', {}, 'Новая учётная запись'),
    h('label', {}, 'Логин', login),
    h('label', {}, 'Роль', role),
    h('label', {}, 'УО', organisation),
    h('label', {}, 'Пароль (не короче 10 символов)', password),
    message,
    h('button', { type: 'submit', class: 'primary' }, 'Добавить'),
  );

  const journal = h('div', {});
  put(container,
    heading('Пользователи', 'Сотрудники, которые входят в консоль.'),
    list,
    form,
    h('h2', {}, 'Журнал действий'),
    journal,
  );
  await refresh();
  put(journal, await auditLog());
}
