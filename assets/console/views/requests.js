// «Заявки»: a placeholder until its API exists; replace this module's render().

import { h, heading } from '../dom.js';

export function render(container) {
  container.append(
    heading('Заявки'),
    h(
      'div',
      { class: 'placeholder card', 'data-placeholder': 'requests' },
      h('p', {}, 'Раздел в разработке.'),
      h('p', { class: 'note' }, 'Очередь заявок жителей: фильтры по статусу, категории, дому, просроченные и аварийные, карточка с историей и действиями.'),
    ),
  );
}
