// «Показания»: a placeholder until its API exists; replace this module's render().

import { h, heading } from '../dom.js';

export function render(container) {
  container.append(
    heading('Показания'),
    h(
      'div',
      { class: 'placeholder card', 'data-placeholder': 'readings' },
      h('p', {}, 'Раздел в разработке.'),
      h('p', { class: 'note' }, 'Показания по периоду и дому: переданные и недостающие по каждому счётчику, отклонённые ГИС ЖКХ с причинами, выгрузка CSV для биллинга.'),
    ),
  );
}
