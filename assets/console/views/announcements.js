// «Объявления»: a placeholder until its API exists; replace this module's render().

import { h, heading } from '../dom.js';

export function render(container) {
  container.append(
    heading('Объявления'),
    h(
      'div',
      { class: 'placeholder card', 'data-placeholder': 'announcements' },
      h('p', {}, 'Раздел в разработке.'),
      h('p', { class: 'note' }, 'Объявления в домовые чаты и жителям, подписанным на уведомления, с цифрами доставки.'),
    ),
  );
}
