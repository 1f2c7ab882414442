// «Реестр собственников» (admins): per house, how many premises have owners on record
// and how many residents linked; the register imports with their wrong lines; a new
// import of a register CSV (all rows or none).

import { ApiError, get } from '../api.js';
import { clear, errorBox, h, heading, num, when, put } from '../dom.js';

const KINDS = [
  ['owners', 'Собственники'],
  ['accounts', 'Помещения и лицевые счета'],
  ['meters', 'Счётчики'],
  ['houses', 'Дома'],
];
const KIND_NAMES = Object.fromEntries(KINDS);

let csrfToken = null;

// The CSV goes as the request body; the file's name and kind in the query.
async function upload(kind, file) {
  const params = new URLSearchParams({ kind, file_name: file.name });
  let res;
  try {
    res = await fetch(`/api/console/v1/register/imports?${params}`, {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'text/csv', 'X-CSRF-Token': csrfToken || '' },
      credentials: 'same-origin',
      body: file,
    });
  } catch {
    throw new ApiError(0, 'network', 'Нет связи с сервером. Проверьте подключение.');
  }
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (res.ok) return data.import;
  if (data && data.import) return data.import;
  const e = (data && data.error) || {};
  throw new ApiError(res.status, e.code || 'error', e.message || 'Файл не загружен.');
}

function housesTable(houses, regional) {
  if (houses.length === 0) return h('p', { class: 'empty card' }, 'Домов пока нет: загрузите файл домов.');
  return h(
    'div',
    { class: 'table-wrap card' },
    h(
      'table',
      { class: 'table register' },
      h('thead', {}, h('tr', {},
        h('th', {}, 'Адрес'),
        h('th', { class: 'num' }, 'Помещений'),
        h('th', { class: 'num' }, 'С лицевыми счетами'),
        h('th', { class: 'num' }, 'С собственниками в реестре'),
        h('th', { class: 'num' }, 'Записей о собственниках'),
        h('th', { class: 'num' }, 'Привязаны жителями'))),
      h('tbody', {}, houses.map((house) => h(
        'tr',
        { 'data-house-id': String(house.id) },
        h('td', {}, house.address, regional ? h('span', { class: 'note' }, ` · ${house.organisation_name}`) : null),
        h('td', { class: 'num' }, num(house.premises)),
        h('td', { class: 'num' }, num(house.with_accounts)),
        h('td', { class: 'num' }, `${num(house.with_owners)}${house.premises ? ` (${Math.round((100 * house.with_owners) / house.premises)}%)` : ''}`),
        h('td', { class: 'num' }, num(house.owners)),
        h('td', { class: 'num' }, num(house.linked)),
      ))),
    ),
  );
}

function importRow(imp) {
  const ok = imp.outcome === 'done';
  return h(
    'tr',
    { class: ok ? null : 'warn', 'data-import-id': String(imp.id) },
    h('td', { class: 'when' }, when(imp.at)),
    h('td', {}, KIND_NAMES[imp.kind] || imp.kind),
    h('td', {}, imp.file_name || '—'),
    h('td', { class: 'num' }, num(imp.lines)),
    h('td', {}, ok
      ? h('span', { class: 'badge ok' }, `загружено: новых ${num(imp.created)}, обновлено ${num(imp.updated)}`)
      : h('span', { class: 'badge warn' }, 'не загружено')),
    h('td', { class: 'reason' }, imp.errors.length === 0 ? '' : h('ul', { class: 'line-errors' },
      imp.errors.map((e) => h('li', {}, `строка ${e.line}: ${e.reason}`)))),
  );
}

function importsTable(imports) {
  if (imports.length === 0) return h('p', { class: 'empty card' }, 'Загрузок ещё не было.');
  return h(
    'div',
    { class: 'table-wrap card' },
    h(
      'table',
      { class: 'table imports' },
      h('thead', {}, h('tr', {}, ...['Когда', 'Что', 'Файл', 'Строк', 'Итог', 'Ошибки'].map((t) => h('th', {}, t)))),
      h('tbody', {}, imports.map(importRow)),
    ),
  );
}

export async function render(container, { me }) {
  csrfToken = me.csrf_token;
  const regional = !me.organisation;
  const houses = h('div', {});
  const imports = h('div', {});
  const result = h('div', { role: 'status' });

  async function refresh() {
    const data = await get('/register');
    clear(houses, housesTable(data.houses, regional));
    clear(imports, importsTable(data.imports));
  }

  const kind = h('select', { name: 'kind' }, KINDS.map(([v, label]) => h('option', { value: v }, label)));
  const file = h('input', { type: 'file', name: 'file', accept: '.csv,text/csv', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Загрузить');
  const form = h(
    'form',
    { class: 'toolbar upload card' },
    h('label', {}, 'Что в файле', kind),
    h('label', {}, 'Файл CSV (UTF-8)', file),
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(result);
    if (!file.files.length) {
      put(result, errorBox(new Error('Выберите файл.')));
      return;
    }
    submit.disabled = true;
    try {
      const imp = await upload(kind.value, file.files[0]);
      if (imp.outcome === 'done') {
        put(result, h('p', { class: 'note' }, `Файл загружен: строк ${num(imp.lines)}, новых записей ${num(imp.created)}, обновлено ${num(imp.updated)}.`));
        form.reset();
      } else {
        put(result,
          h('p', { class: 'error', role: 'alert' }, `Ничего не загружено: ошибок в строках — ${imp.errors.length}. Исправьте их и загрузите файл снова.`),
          h('ul', { class: 'line-errors error' }, imp.errors.map((e) => h('li', {}, `строка ${e.line}: ${e.reason}`))),
        );
      }
      await refresh();
    } catch (error) {
      put(result, errorBox(error));
    } finally {
      submit.disabled = false;
    }
  });

  put(container,
    heading(
      'Реестр собственников',
      'Сколько помещений каждого дома есть в реестре собственников и сколько из них жители уже привязали. Загрузка файла проходит целиком или не проходит вовсе; форматы — как у команды gosdom import (docs/import.md).',
    ),
    houses,
    h('h2', {}, 'Загрузить реестр'),
    form,
    result,
    h('h2', {}, 'Загрузки'),
    imports,
  );
  await refresh();
}
