// «Объявления»: writing a notice to one house, several or all (general, planned outage,
// emergency), now or at a set time, and the delivery figures of the latest ones.

import { get, post } from '../api.js';
import { h, heading, num, when, clear, errorBox, put } from '../dom.js';

const KINDS = { general: 'Общее', outage: 'Плановое отключение', emergency: 'Авария' };
const STATUSES = {
  scheduled: 'запланировано',
  sending: 'рассылается',
  queued: 'отправлено в очередь',
  cancelled: 'отменено',
};

// An announcement due now whose fan-out job has not started yet.
const due = (a) => a.status === 'scheduled' && a.send_at && new Date(a.send_at).getTime() <= Date.now();

// Still on its way: the list is fetched again until it is not.
const inFlight = (a) => due(a) || a.status === 'sending' || (a.status === 'queued' && a.residents.waiting + a.chats.waiting > 0);

function statusOf(a) {
  if (due(a)) return 'отправляется';
  if (a.status === 'queued' && a.residents.waiting + a.chats.waiting === 0) return 'разослано';
  return STATUSES[a.status] || a.status;
}

/** `datetime-local` value → RFC 3339 in UTC, or null. */
function isoOf(input) {
  if (!input.value) return null;
  const at = new Date(input.value);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

function figures(f, who) {
  const parts = [`запланировано ${num(f.planned)}`, `доставлено ${num(f.sent)}`];
  if (f.waiting) parts.push(`в очереди ${num(f.waiting)}`);
  if (f.failed) parts.push(`ошибок ${num(f.failed)}`);
  if (who === 'residents' && f.skipped) {
    const why = [];
    if (f.skipped_hourly_limit) why.push(`уже получили объявление за последний час: ${num(f.skipped_hourly_limit)}`);
    if (f.skipped_opted_out) why.push(`отключили уведомления: ${num(f.skipped_opted_out)}`);
    if (f.skipped_bot_stopped) why.push(`остановили бота: ${num(f.skipped_bot_stopped)}`);
    parts.push(`пропущено ${num(f.skipped)} (${why.join('; ')})`);
  }
  return parts.join(', ');
}

function item(a, { refresh }) {
  const status = h('div', { class: 'row-status', role: 'status' });
  const cancel =
    a.status === 'scheduled' && !due(a)
      ? h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: async () => {
              if (!confirm('Отменить объявление?')) return;
              try {
                await post(`/announcements/${a.id}/cancel`);
                await refresh();
              } catch (error) {
                clear(status, errorBox(error));
              }
            },
          },
          'Отменить',
        )
      : null;
  const target = a.all_houses ? 'все дома УО' : a.houses.join('; ');
  return h(
    'article',
    { class: `card announcement ${a.kind}`, 'data-announcement-id': a.id },
    h(
      'header',
      {},
      h('span', { class: `badge ${a.kind === 'emergency' ? 'warn' : 'muted'}` }, KINDS[a.kind] || a.kind),
      ' ',
      h('strong', {}, a.title),
    ),
    a.kind === 'outage' ? h('p', { class: 'note' }, `Отключение: с ${when(a.starts_at)} до ${when(a.ends_at)}`) : null,
    h('p', { class: 'announcement-text' }, a.text),
    h('p', { class: 'note' }, `Кому: ${target}. Отправка: ${when(a.send_at)} — ${statusOf(a)}.`),
    (a.status === 'scheduled' && !due(a)) || a.status === 'cancelled'
      ? null
      : h(
          'dl',
          { class: 'delivery' },
          h('dt', {}, 'Жителям'),
          h('dd', { 'data-figures': 'residents' }, figures(a.residents, 'residents')),
          h('dt', {}, 'В чаты домов'),
          h('dd', { 'data-figures': 'chats' }, figures(a.chats, 'chats')),
        ),
    cancel,
    status,
  );
}

export async function render(container, { me }) {
  const { houses } = await get('/houses');
  const list = h('div', { class: 'announcements' });

  // While an announcement is on its way, the list is fetched again every 2 s (at most
  // 30 times after the last change the operator made), so «отправляется» turns into the
  // delivery figures without a reload.
  let polls = 0;
  let timer = null;
  async function refresh({ again = false } = {}) {
    if (!again) polls = 0;
    clearTimeout(timer);
    const { announcements } = await get('/announcements');
    clear(list,
      ...(announcements.length
        ? announcements.map((a) => item(a, { refresh }))
        : [h('p', { class: 'empty card' }, 'Объявлений пока нет.')]),
    );
    if (announcements.some(inFlight) && polls < 30) {
      polls += 1;
      timer = setTimeout(() => {
        if (list.isConnected) refresh({ again: true }).catch(() => {});
      }, 2000);
    }
  }

  const message = h('p', { class: 'error', role: 'alert', hidden: true });
  const done = h('p', { class: 'note', role: 'status' });
  const kind = h(
    'select',
    { name: 'kind' },
    Object.entries(KINDS).map(([value, label]) => h('option', { value }, label)),
  );
  const title = h('input', { name: 'title', required: true, maxlength: 150 });
  const text = h('textarea', { name: 'text', required: true, maxlength: 3000, rows: 5 });
  const startsAt = h('input', { name: 'starts_at', type: 'datetime-local' });
  const endsAt = h('input', { name: 'ends_at', type: 'datetime-local' });
  const period = h('div', { class: 'form-row', hidden: true }, h('label', {}, 'Начало отключения', startsAt), h('label', {}, 'Окончание', endsAt));
  kind.addEventListener('change', () => {
    period.hidden = kind.value !== 'outage';
  });
  const allHouses = h('input', { type: 'checkbox', name: 'all_houses' });
  const houseBoxes = houses.map((house) => ({
    id: house.id,
    box: h('input', { type: 'checkbox', name: 'house', value: house.id }),
    label: house.address,
  }));
  const organisation = me.organisation
    ? null
    : h(
        'select',
        { name: 'organisation_id' },
        [...new Map(houses.map((house) => [house.organisation_id, house.organisation_name]))].map(([id, name]) =>
          h('option', { value: id }, name),
        ),
      );
  const sendAt = h('input', { name: 'send_at', type: 'datetime-local' });
  const form = h(
    'form',
    {
      class: 'card composer',
      onsubmit: async (event) => {
        event.preventDefault();
        message.hidden = true;
        done.textContent = '';
        const chosen = houseBoxes.filter((x) => x.box.checked).map((x) => x.id);
        const body = {
          kind: kind.value,
          title: title.value,
          text: text.value,
          houses: allHouses.checked ? [] : chosen,
          all_houses: allHouses.checked,
        };
        if (kind.value === 'outage') {
          body.starts_at = isoOf(startsAt);
          body.ends_at = isoOf(endsAt);
        }
        if (organisation && allHouses.checked) body.organisation_id = Number(organisation.value);
        const sendTime = isoOf(sendAt);
        if (sendTime) body.send_at = sendTime;
        if (kind.value === 'emergency' && !confirm('Аварийное объявление придёт всем жителям выбранных домов, даже отключившим уведомления. Отправить?')) return;
        const submit = form.querySelector('button[type=submit]');
        submit.disabled = true;
        try {
          await post('/announcements', body);
          form.reset();
          period.hidden = true;
          done.textContent = sendTime ? 'Объявление запланировано.' : 'Объявление отправляется.';
          await refresh();
        } catch (error) {
          message.textContent = error.message;
          message.hidden = false;
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h2', {}, 'Новое объявление'),
    h('label', {}, 'Вид', kind),
    h('label', {}, 'Заголовок', title),
    h('label', {}, 'Текст', text),
    period,
    h(
      'fieldset',
      { class: 'houses-pick' },
      h('legend', {}, 'Дома'),
      h('label', { class: 'check' }, allHouses, 'Все дома управляющей организации'),
      organisation ? h('label', {}, 'УО', organisation) : null,
      houseBoxes.map((x) => h('label', { class: 'check' }, x.box, x.label)),
    ),
    h('label', {}, 'Когда отправить (пусто — сейчас)', sendAt),
    h(
      'p',
      { class: 'note' },
      'Объявление уйдёт в привязанные чаты домов и жителям, которые не отключили объявления. Аварийные приходят всем; общие — не чаще одного в час каждому жителю.',
    ),
    message,
    h('button', { type: 'submit', class: 'primary' }, 'Отправить'),
    done,
  );

  put(container, heading('Объявления', 'Сообщения жителям и в чаты домов с цифрами доставки.'), form, h('h2', {}, 'Последние объявления'), list);
  await refresh();
}
