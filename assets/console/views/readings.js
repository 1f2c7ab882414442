// «Показания»: for a month and a house, every meter with the values submitted for it or
// none, those ГИС ЖКХ rejected with its reason, the counts, and the billing CSV of the
// month as a file.

import { get } from '../api.js';
import { clear, errorBox, h, heading, num, when, put } from '../dom.js';

const RESOURCES = {
  cold_water: 'Холодная вода',
  hot_water: 'Горячая вода',
  electricity: 'Электроэнергия',
  gas: 'Газ',
  heat: 'Тепловая энергия',
};
const UNITS = { m3: 'м³', kWh: 'кВт·ч', Gcal: 'Гкал' };
const STATUSES = {
  accepted: 'принято',
  sent: 'отправлено в ГИС ЖКХ',
  confirmed: 'подтверждено ГИС ЖКХ',
  rejected: 'отклонено ГИС ЖКХ',
};
const STATES = {
  submitted: ['переданы', 'ok'],
  missing: ['нет показаний', 'muted'],
  rejected: ['отклонены ГИС ЖКХ', 'warn'],
};
const SHOWN = [
  ['', 'Все счётчики'],
  ['submitted', 'Переданные'],
  ['missing', 'Без показаний'],
  ['rejected', 'Отклонённые'],
];
const TARIFFS = ['день', 'ночь', 'пик'];

function thisMonth() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}`;
}

function options(list, value) {
  return list.map(([v, label]) => {
    const option = h('option', { value: v }, label);
    if (String(v) === String(value)) option.selected = true;
    return option;
  });
}

// «1234,5 / 200 кВт·ч на 22.11.2026», with the tariffs named when there are several.
function values(reading, unit) {
  const parts = reading.values.map((v, i) => {
    const text = v.replace('.', ',');
    return reading.values.length > 1 ? `${TARIFFS[i]} ${text}` : text;
  });
  const [y, m, d] = reading.taken_on.split('-');
  return `${parts.join(' / ')} ${UNITS[unit] || unit} на ${d}.${m}.${y}`;
}

function meterRow(meter) {
  const [stateLabel, stateClass] = STATES[meter.state];
  const unit = meter.unit;
  const shown = meter.readings.length ? meter.readings : meter.rejected;
  return h(
    'tr',
    { class: meter.state === 'rejected' ? 'warn' : meter.state === 'missing' ? 'muted' : null, 'data-meter-id': String(meter.id) },
    h('td', {}, meter.premise_number),
    h('td', {}, `№ ${meter.serial}`, meter.automatic ? h('span', { class: 'note' }, ' · автоматический') : null),
    h('td', {}, RESOURCES[meter.resource] || meter.resource),
    h(
      'td',
      {},
      shown.length === 0
        ? '—'
        : shown.map((r) => h('div', { title: `получено ${when(r.received_at)}` }, values(r, unit), h('span', { class: 'note' }, ` · ${STATUSES[r.status] || r.status}`))),
    ),
    h('td', {}, h('span', { class: `badge ${stateClass}` }, stateLabel)),
    h(
      'td',
      { class: 'reason' },
      meter.rejected.length === 0 ? '' : meter.rejected.map((r) => h('div', {}, r.reason || 'причина не указана')),
    ),
  );
}

function figures(counts) {
  const figure = (value, label) => h('div', { class: 'figure card' }, h('strong', {}, num(value)), h('span', { class: 'figure-label' }, label));
  return h(
    'div',
    { class: 'figures', 'aria-label': 'Итоги за период' },
    figure(counts.meters, 'счётчиков'),
    figure(counts.submitted, 'переданы'),
    figure(counts.missing, 'нет показаний'),
    figure(counts.rejected, 'отклонены ГИС ЖКХ'),
  );
}

export async function render(container, { me }) {
  const [{ houses }, { organisations }] = await Promise.all([get('/houses'), get('/organisations')]);
  const regional = !me.organisation;
  const state = { period: thisMonth(), house: houses.length ? String(houses[0].id) : '', shown: '', organisation: '' };

  const period = h('input', { type: 'month', name: 'period', value: state.period, required: true });
  const house = h('select', { name: 'house_id' }, options(houses.map((x) => [String(x.id), regional ? `${x.address} (${x.organisation_name})` : x.address]), state.house));
  const shown = h('select', { name: 'shown' }, options(SHOWN, ''));
  const bar = h(
    'form',
    { class: 'toolbar filters' },
    h('label', {}, 'Период ', period),
    h('label', {}, 'Дом ', house),
    h('label', {}, 'Показать ', shown),
    h('button', { type: 'submit', class: 'primary' }, 'Показать'),
  );

  const organisation = regional
    ? h('select', { name: 'organisation_id', 'aria-label': 'УО для выгрузки' }, options([['', 'Все УО'], ...organisations.map((o) => [String(o.id), o.name])], ''))
    : null;
  const exportLink = h('a', { class: 'button', download: '' }, 'Выгрузить CSV для биллинга');
  const exportNote = h('p', { class: 'note' });
  const exportBox = h('div', { class: 'card toolbar export' }, exportLink, organisation, exportNote);
  const summary = h('div', {});
  const table = h('div', {});

  function updateExport() {
    const params = new URLSearchParams({ period: state.period });
    if (organisation && organisation.value) params.set('organisation_id', organisation.value);
    exportLink.href = `/api/console/v1/readings/export?${params}`;
    const whose = regional ? (organisation.value ? 'выбранной УО' : 'всех УО') : 'всех домов УО';
    exportNote.textContent = `Показания ${whose} за ${state.period}, которые учитываются (принятые, отправленные и подтверждённые). UTF-8, разделитель — запятая.`;
  }
  if (organisation) organisation.addEventListener('change', updateExport);

  let data = null;
  function draw() {
    clear(table);
    const meters = data.meters.filter((m) => !state.shown || m.state === state.shown);
    if (data.meters.length === 0) {
      put(table, h('p', { class: 'empty card' }, 'В этом доме нет счётчиков.'));
      return;
    }
    if (meters.length === 0) {
      put(table, h('p', { class: 'empty card' }, 'Таких счётчиков нет.'));
      return;
    }
    put(table,
      h(
        'div',
        { class: 'table-wrap card' },
        h(
          'table',
          { class: 'table readings' },
          h('thead', {}, h('tr', {}, ...['Помещение', 'Счётчик', 'Ресурс', 'Показания', 'Состояние', 'Причина отклонения'].map((t) => h('th', {}, t)))),
          h('tbody', {}, meters.map(meterRow)),
        ),
      ),
    );
  }

  async function load() {
    clear(summary);
    clear(table, h('p', { class: 'loading' }, 'Загрузка…'));
    updateExport();
    if (!state.house) {
      clear(table, h('p', { class: 'empty card' }, 'Домов пока нет.'));
      return;
    }
    try {
      data = await get(`/readings?${new URLSearchParams({ period: state.period, house_id: state.house })}`);
    } catch (error) {
      clear(table, errorBox(error));
      return;
    }
    put(summary, figures(data.counts));
    draw();
  }

  bar.addEventListener('submit', (event) => {
    event.preventDefault();
    state.period = period.value || thisMonth();
    state.house = house.value;
    state.shown = shown.value;
    load();
  });
  shown.addEventListener('change', () => {
    state.shown = shown.value;
    if (data) draw();
  });

  put(container,
    heading('Показания', 'Переданные и недостающие показания по каждому счётчику дома за месяц; отклонённые ГИС ЖКХ — с причиной.'),
    bar,
    exportBox,
    summary,
    table,
  );
  await load();
}
