// «Обмен с ГИС ЖКХ»: the outbox per kind and state, last successes, failed jobs with the
// reason and (for admins) a retry button.

import { get, post } from '../api.js';
import { h, heading, num, when, errorBox, clear, put } from '../dom.js';

const STATES = [
  ['pending', 'в очереди'],
  ['running', 'выполняются'],
  ['done', 'выполнено'],
  ['failed', 'с ошибкой'],
];

// Known job kinds in words; others are shown as they are.
// Every job kind the appliance enqueues (the `kind` of NewJob::new in src); the code stays
// in the cell's title. A kind not listed here gets a generic label, never the bare code.
const KIND_NAMES = {
  'max.update': 'Входящие события MAX',
  'max.send': 'Сообщения в MAX',
  'max.answer': 'Ответы на нажатия кнопок MAX',
  'max.subscription': 'Подписка бота MAX на события',
  'max.notify_request': 'Уведомления жителям о заявках',
  'chats.refresh_link': 'Ссылка на домовой чат',
  'chats.refresh_links': 'Обновление ссылок на домовые чаты',
  'announcements.fan_out': 'Рассылка объявлений',
  'readings.remind': 'Напоминания о показаниях',
  'requests.close_done': 'Закрытие выполненных заявок',
  'gis.message': 'Запросы в ГИС ЖКХ',
  'gis.sync': 'Загрузка данных из ГИС ЖКХ',
  'gis.pull_appeals': 'Обращения из ГИС ЖКХ',
  'gis.import_answer': 'Ответы на обращения в ГИС ЖКХ',
  'gis.import_readings': 'Показания в ГИС ЖКХ',
};
const AREA_NAMES = { max: 'MAX', gis: 'ГИС ЖКХ', chats: 'домовые чаты', readings: 'показания', requests: 'заявки', announcements: 'объявления' };
function kindName(kind) {
  if (KIND_NAMES[kind]) return KIND_NAMES[kind];
  const area = AREA_NAMES[String(kind).split('.')[0]];
  return area ? `Прочие задания: ${area}` : 'Прочие задания';
}

export async function render(container) {
  const data = await get('/exchange');
  const kinds = new Map();
  for (const { kind, state, count } of data.depth) {
    if (!kinds.has(kind)) kinds.set(kind, {});
    kinds.get(kind)[state] = count;
  }
  const lastDone = new Map(data.last_done.map((row) => [row.kind, row.at]));
  const failedTotal = data.depth.filter((d) => d.state === 'failed').reduce((a, d) => a + d.count, 0);

  put(container,
    heading(
      'Обмен с ГИС ЖКХ и MAX',
      failedTotal === 0 ? 'Заданий с ошибкой нет.' : `Заданий с ошибкой: ${num(failedTotal)}.`,
    ),
  );

  put(container,
    kinds.size === 0
      ? h('p', { class: 'empty card' }, 'Заданий обмена пока не было.')
      : h(
          'div',
          { class: 'table-wrap card' },
          h(
            'table',
            { class: 'table' },
            h(
              'thead',
              {},
              h('tr', {}, h('th', {}, 'Вид'), STATES.map(([, label]) => h('th', { class: 'num' }, label)), h('th', {}, 'Последний успех')),
            ),
            h(
              'tbody',
              {},
              [...kinds.entries()].map(([kind, counts]) =>
                h(
                  'tr',
                  { class: counts.failed ? 'warn' : null },
                  h('td', { title: kind }, kindName(kind)),
                  STATES.map(([state]) => h('td', { class: 'num' }, num(counts[state]))),
                  h('td', { class: 'when' }, when(lastDone.get(kind))),
                ),
              ),
            ),
          ),
        ),
  );

  if (!data.can_retry) {
    put(container, h('p', { class: 'note' }, 'Подробности ошибок и повтор заданий доступны администраторам.'));
    return;
  }
  const waiting = data.waiting || [];
  if (waiting.length > 0) {
    put(container, h('h2', {}, 'Ожидают'));
    put(container,
      h(
        'div',
        { class: 'table-wrap card' },
        h(
          'table',
          { class: 'table' },
          h('thead', {}, h('tr', {}, h('th', {}, '№'), h('th', {}, 'Вид'), h('th', {}, 'Причина'), h('th', {}, 'Следующая попытка'))),
          h(
            'tbody',
            {},
            waiting.map((job) =>
              h(
                'tr',
                {},
                h('td', {}, job.id),
                h('td', { title: job.kind }, kindName(job.kind)),
                h('td', { class: 'reason' }, job.reason || '—'),
                h('td', { class: 'when' }, when(job.run_at)),
              ),
            ),
          ),
        ),
      ),
    );
  }
  put(container, h('h2', {}, 'Задания с ошибкой'));
  if (data.failed.length === 0) {
    put(container, h('p', { class: 'empty card' }, 'Нет.'));
    return;
  }
  put(container,
    h(
      'div',
      { class: 'table-wrap card' },
      h(
        'table',
        { class: 'table' },
        h(
          'thead',
          {},
          h('tr', {}, h('th', {}, '№'), h('th', {}, 'Вид'), h('th', { class: 'num' }, 'Попыток'), h('th', {}, 'Причина'), h('th', {}, 'Когда'), h('th', {}, '')),
        ),
        h(
          'tbody',
          {},
          data.failed.map((job) => {
            const status = h('span', { class: 'row-status' });
            const button = h(
              'button',
              {
                type: 'button',
                onclick: async () => {
                  button.disabled = true;
                  try {
                    await post(`/exchange/jobs/${job.id}/retry`);
                    clear(status, 'поставлено в очередь');
                    button.remove();
                  } catch (error) {
                    button.disabled = false;
                    clear(status, errorBox(error));
                  }
                },
              },
              'Повторить',
            );
            return h(
              'tr',
              {},
              h('td', {}, job.id),
              h('td', { title: job.kind }, kindName(job.kind)),
              h('td', { class: 'num' }, num(job.attempts)),
              h('td', { class: 'reason' }, job.reason || '—'),
              h('td', { class: 'when' }, when(job.failed_at)),
              h('td', {}, button, status),
            );
          }),
        ),
      ),
    ),
  );
}
