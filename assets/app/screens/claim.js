// Ownership proof by ЛС/ЕЛС plus premise number, pre-filled from the ЕСИА address.

import { api } from '../api.js?v=2';
import { el, put } from '../dom.js?v=2';
import { back, navigate, registerScreen } from '../router.js?v=2';

async function render(root) {
  const me = await api('GET', '/me');
  const hint = me.person && me.person.address_hint;
  root.innerHTML = '';
  put(root, el('h1', {}, 'Добавить помещение'));
  put(root, el('p', { class: 'meta' }, 'Укажите номер лицевого счёта (ЛС) или единого лицевого счёта (ЕЛС) из квитанции и номер квартиры. Управляющая организация проверит, что помещение ваше.'));

  const account = el('input', { id: 'claim-account', name: 'account', required: true, autocomplete: 'off', inputmode: 'text' });
  const number = el('input', { id: 'claim-number', name: 'premise_number', required: true, autocomplete: 'off', value: hint && hint.premise_number ? hint.premise_number : '' });
  const status = el('p', { class: 'notice error', role: 'alert', hidden: true });
  const submit = el('button', { type: 'submit', class: 'button' }, 'Добавить');
  const form = el('form', { class: 'card', novalidate: true },
    hint ? el('p', { class: 'notice' }, `Адрес из Госуслуг: ${hint.address}`) : null,
    el('label', { for: 'claim-account' }, 'ЛС или ЕЛС'), account,
    el('label', { for: 'claim-number' }, 'Номер квартиры или помещения'), number,
    el('div', { class: 'stack' }, submit, status));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.hidden = true;
    submit.disabled = true;
    try {
      const result = await api('POST', '/properties/claim', {
        account: account.value,
        premise_number: number.value,
      });
      back();
      navigate('property', { id: result.id });
    } catch (error) {
      status.textContent = error.message;
      status.hidden = false;
      submit.disabled = false;
    }
  });
  put(root, form);
}

registerScreen('claim', { title: 'Добавить помещение', render });
