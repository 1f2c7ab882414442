// «Дома и чаты»: the УО's houses with premises, connected residents and the bound MAX chat.
// Admins make one-time binding codes (`/bind <code>` in the chat), bind a chat the bot is
// in, and unbind; operators see the state.

import { get, post } from '../api.js';
import { h, heading, num, when, clear, errorBox, put } from '../dom.js';

function chatCell(house) {
  if (house.chat_id !== null) {
    return h(
      'div',
      {},
      h('span', { class: 'badge ok', title: `Чат ${house.chat_id}` }, 'привязан'),
      ' ',
      house.chat_title || 'без названия',
      house.chat_link
        ? h('div', {}, h('a', { href: house.chat_link, target: '_blank', rel: 'noopener' }, 'ссылка-приглашение'))
        : h('div', { class: 'row-status' }, 'ссылка ещё не получена'),
    );
  }
  if (house.chat_removed_at) {
    return h(
      'div',
      {},
      h('span', { class: 'badge warn' }, 'бот удалён из чата'),
      h('div', { class: 'row-status' }, `${when(house.chat_removed_at)}: чат отвязан. Добавьте бота в чат и привяжите снова.`),
    );
  }
  return h('span', { class: 'badge muted' }, 'не привязан');
}

function actions(house, { freeChats, refresh }) {
  const status = h('div', { class: 'row-status', role: 'status' });
  // The row's buttons wait while one of its actions runs: a double click makes one code.
  const run = async (action) => {
    clear(status);
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await action();
    } catch (error) {
      put(status, errorBox(error));
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  };
  const code = h(
    'button',
    {
      type: 'button',
      onclick: () =>
        run(async () => {
          const made = await post(`/houses/${house.id}/chat/code`);
          clear(status,
            h('strong', { class: 'code', 'data-code': made.code }, made.code),
            h('div', {}, `Отправьте в чате дома: /bind ${made.code}. Код одноразовый, действует до ${when(made.expires_at)}.`),
          );
        }),
    },
    'Код привязки',
  );
  const buttons = [code];
  if (house.chat_id !== null) {
    buttons.push(
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          onclick: () =>
            run(async () => {
              if (!confirm(`Отвязать чат от дома ${house.address}? Жители перестанут видеть его в приложении.`)) return;
              await post(`/houses/${house.id}/chat/unbind`);
              await refresh();
            }),
        },
        'Отвязать',
      ),
    );
  } else if (freeChats.length) {
    const select = h(
      'select',
      { 'aria-label': 'Чат, где есть бот' },
      freeChats.map((c) => h('option', { value: c.chat_id }, c.title || `Чат ${c.chat_id}`)),
    );
    buttons.push(
      select,
      h(
        'button',
        {
          type: 'button',
          onclick: () =>
            run(async () => {
              await post(`/houses/${house.id}/chat`, { chat_id: Number(select.value) });
              await refresh();
            }),
        },
        'Привязать',
      ),
    );
  }
  const note = house.code_expires_at ? h('div', { class: 'row-status' }, `Есть действующий код до ${when(house.code_expires_at)}`) : null;
  return h('div', { class: 'actions' }, buttons, note, status);
}

export async function render(container, { me }) {
  const admin = me.role === 'admin';
  const regional = !me.organisation;
  const table = h('div', {});

  async function refresh() {
    const [{ houses }, free] = await Promise.all([get('/houses'), admin ? get('/chats/free') : Promise.resolve({ chats: [] })]);
    const freeChats = free.chats;
    const bound = houses.filter((house) => house.chat_id !== null).length;
    const wishes = houses.reduce((sum, house) => sum + house.chat_wishes, 0);
    clear(container,
      heading(
        'Дома и чаты',
        `Домов: ${num(houses.length)}, с домовым чатом: ${num(bound)}. Жителей, попросивших чат: ${num(wishes)}.`,
      ),
      admin
        ? h(
            'p',
            { class: 'note' },
            'Чтобы привязать чат: добавьте бота в чат дома в MAX, получите здесь код привязки и отправьте в чате команду /bind с кодом.',
          )
        : null,
      table,
    );
    if (houses.length === 0) {
      clear(table, h('p', { class: 'empty card' }, 'Домов пока нет. Загрузите их командой gosdom import houses.'));
      return;
    }
    clear(table,
      h(
        'div',
        { class: 'table-wrap card' },
        h(
          'table',
          { class: 'table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, 'Адрес'),
              regional ? h('th', {}, 'УО') : null,
              h('th', { class: 'num' }, 'Помещений'),
              h('th', { class: 'num' }, 'Жителей подключено'),
              h('th', {}, 'Домовой чат'),
              h('th', { class: 'num' }, 'Просят чат'),
              admin ? h('th', {}, 'Действия') : null,
            ),
          ),
          h(
            'tbody',
            {},
            houses.map((house) =>
              h(
                'tr',
                { 'data-house-id': house.id, class: house.chat_removed_at && house.chat_id === null ? 'warn' : null },
                h('td', {}, house.address),
                regional ? h('td', {}, house.organisation_name) : null,
                h('td', { class: 'num' }, num(house.premises)),
                h('td', { class: 'num' }, num(house.linked_residents)),
                h('td', {}, chatCell(house)),
                h('td', { class: 'num' }, num(house.chat_wishes)),
                admin ? h('td', {}, actions(house, { freeChats, refresh })) : null,
              ),
            ),
          ),
        ),
      ),
    );
  }

  await refresh();
}
