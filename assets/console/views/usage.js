// «Статистика»: people per day and in total who started the bot, opened the mini-app,
// signed in, linked a property, submitted readings, filed requests; with a line chart.

import { get } from '../api.js';
import { h, heading, num, clear, errorBox, put } from '../dom.js';

const KIND_NAMES = {
  dialog_started: 'Начали диалог с ботом',
  app_opened: 'Открыли мини-приложение',
  signed_in: 'Вошли через Госуслуги',
  property_linked: 'Подтвердили помещение',
  reading_submitted: 'Передали показания',
  request_filed: 'Подали заявки',
};
const COLOURS = ['#1d4ed8', '#0891b2', '#059669', '#ca8a04', '#dc2626', '#7c3aed'];
const PERIODS = [7, 30, 90, 365];

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function chart(usage) {
  const width = 880;
  const height = 260;
  const pad = { left: 44, right: 12, top: 12, bottom: 28 };
  const days = usage.days;
  const max = Math.max(1, ...days.flatMap((d) => usage.kinds.map((k) => d.figures[k] || 0)));
  const x = (i) => pad.left + (days.length <= 1 ? 0 : (i * (width - pad.left - pad.right)) / (days.length - 1));
  const y = (v) => height - pad.bottom - (v * (height - pad.top - pad.bottom)) / max;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': 'График по дням' });
  for (const step of [0, 0.5, 1]) {
    const value = Math.round(max * step);
    put(svg,
      s('line', { x1: pad.left, x2: width - pad.right, y1: y(value), y2: y(value), class: 'grid' }),
      s('text', { x: pad.left - 6, y: y(value) + 4, 'text-anchor': 'end', class: 'axis' }, num(value)),
    );
  }
  const labelEvery = Math.max(1, Math.ceil(days.length / 8));
  days.forEach((d, i) => {
    const last = i === days.length - 1 && i % labelEvery >= labelEvery / 2;
    if (i % labelEvery === 0 || last) {
      put(svg, s('text', { x: x(i), y: height - 8, 'text-anchor': 'middle', class: 'axis' }, d.day.slice(5).split('-').reverse().join('.')));
    }
  });
  usage.kinds.forEach((kind, k) => {
    const points = days.map((d, i) => `${x(i).toFixed(1)},${y(d.figures[kind] || 0).toFixed(1)}`).join(' ');
    const line = s('polyline', { points, fill: 'none', stroke: COLOURS[k % COLOURS.length], 'stroke-width': 2 });
    put(line, s('title', {}, KIND_NAMES[kind] || kind));
    put(svg, line);
  });
  return svg;
}

function legend(usage) {
  return h(
    'ul',
    { class: 'legend' },
    usage.kinds.map((kind, k) =>
      h('li', {}, h('span', { class: 'swatch', style: `background:${COLOURS[k % COLOURS.length]}` }), KIND_NAMES[kind] || kind),
    ),
  );
}

function totals(usage) {
  return h(
    'div',
    { class: 'figures' },
    usage.kinds.map((kind) =>
      h(
        'div',
        { class: 'figure card' },
        h('span', { class: 'figure-label' }, KIND_NAMES[kind] || kind),
        h('strong', {}, num(usage.period[kind])),
        h('span', { class: 'note' }, `за всё время: ${num(usage.all_time[kind])}`),
      ),
    ),
  );
}

function table(usage) {
  return h(
    'details',
    { class: 'card' },
    h('summary', {}, 'По дням'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'День'), usage.kinds.map((k) => h('th', { class: 'num' }, KIND_NAMES[k] || k)))),
        h(
          'tbody',
          {},
          [...usage.days].reverse().map((d) =>
            h('tr', {}, h('td', {}, d.day.split('-').reverse().join('.')), usage.kinds.map((k) => h('td', { class: 'num' }, num(d.figures[k])))),
          ),
        ),
      ),
    ),
  );
}

export async function render(container) {
  const body = h('div', {});
  let chosen = 30;
  const buttons = PERIODS.map((days) =>
    h('button', { type: 'button', 'data-days': days, onclick: () => load(days) }, days === 365 ? 'год' : `${days} дн.`),
  );

  async function load(days) {
    chosen = days;
    for (const b of buttons) b.setAttribute('aria-pressed', String(Number(b.dataset.days) === chosen));
    const today = new Date();
    const from = new Date(today.getTime() - (days - 1) * 86400000);
    const iso = (d) => d.toISOString().slice(0, 10);
    try {
      const usage = await get(`/usage?from=${iso(from)}&to=${iso(today)}`);
      clear(body,
        totals(usage),
        h('div', { class: 'card' }, chart(usage), legend(usage)),
        usage.linked_people_only
          ? h('p', { class: 'note' }, 'Учтены только жители, подтвердившие помещение в домах вашей УО.')
          : null,
        table(usage),
      );
    } catch (error) {
      clear(body, errorBox(error));
    }
  }

  put(container,
    heading('Статистика', 'Сколько людей сделали каждый шаг: по дням и за выбранный период.'),
    h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Период' }, buttons),
    body,
  );
  await load(chosen);
}
