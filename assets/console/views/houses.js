// «Дома и чаты»: the УО's houses with premises, connected residents and the bound chat.

import { get } from '../api.js';
import { h, heading, num } from '../dom.js';

export async function render(container, { me }) {
  const { houses } = await get('/houses');
  const regional = !me.organisation;
  const bound = houses.filter((house) => house.chat_id !== null).length;
  container.append(
    heading(
      'Дома и чаты',
      `Домов: ${num(houses.length)}, с домовым чатом: ${num(bound)}. Привязка и отвязка чатов появятся здесь позже.`,
    ),
  );
  if (houses.length === 0) {
    container.append(h('p', { class: 'empty card' }, 'Домов пока нет. Загрузите их командой gosdom import houses.'));
    return;
  }
  container.append(
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
          ),
        ),
        h(
          'tbody',
          {},
          houses.map((house) =>
            h(
              'tr',
              {},
              h('td', {}, house.address),
              regional ? h('td', {}, house.organisation_name) : null,
              h('td', { class: 'num' }, num(house.premises)),
              h('td', { class: 'num' }, num(house.linked_residents)),
              h(
                'td',
                {},
                house.chat_id === null
                  ? h('span', { class: 'badge muted' }, 'не привязан')
                  : h('span', { class: 'badge ok', title: `Чат ${house.chat_id}` }, 'привязан'),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}
