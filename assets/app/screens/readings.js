// «Показания»: the premise's meters grouped by resource, the previous value and its date,
// one field per tariff (День / Ночь / Пик) with a decimal keypad, checks before sending,
// and one result per meter after it. Opened from the object card or by `startapp=readings`.

import { api } from '../api.js?v=2';
import { launchData, webApp } from '../bridge.js?v=2';
import { date, decimal, el, RESOURCES, UNITS, put } from '../dom.js?v=2';
import { navigate, registerPropertyAction, registerScreen } from '../router.js?v=2';

const TARIFFS = ['День', 'Ночь', 'Пик'];
const VALUE = /^\d{1,15}([.,]\d{1,7})?$/;

/** The mini-app's start parameter (`startapp=readings`), wherever MAX put it. */
export function startParam() {
  const app = webApp();
  const unsafe = app && app.initDataUnsafe;
  if (unsafe && unsafe.start_param) return unsafe.start_param;
  const fromLaunch = new URLSearchParams(launchData()).get('start_param');
  if (fromLaunch) return fromLaunch;
  return new URLSearchParams(window.location.search).get('startapp');
}

function number(text) {
  return Number(String(text).replace(',', '.'));
}

/** The Russian message for a typed value, or '' when it looks right. */
function check(meter, typed, index) {
  const text = typed.trim();
  if (!text) return '';
  if (!VALUE.test(text)) return 'Введите число, например 123,45';
  const integer = text.split(/[.,]/)[0].replace(/^0+(?=\d)/, '');
  if (integer.length > meter.digits) return `У этого счётчика не больше ${meter.digits} цифр до запятой`;
  const previous = meter.last && meter.last.values[index];
  if (previous && number(text) < number(previous)) {
    return `Значение меньше предыдущего (${decimal(previous)}): проверьте цифры`;
  }
  return '';
}

function windowNote(window) {
  if (window.any_day) {
    return el('p', { class: 'notice' }, 'Показания принимаются в любой день.');
  }
  if (window.open) {
    return el('p', { class: 'notice' }, `Показания принимаются до ${date(window.closes_on)}.`);
  }
  const when = `с ${date(window.opens_on)} по ${date(window.closes_on)}`;
  return el('p', { class: window.strict ? 'notice error' : 'notice' }, window.strict
    ? `Сейчас показания не принимаются. Передайте их ${when}.`
    : `Приём показаний — ${when}. Сейчас их тоже можно передать.`);
}

function meterCard(meter, fields) {
  const unit = UNITS[meter.unit] || meter.unit;
  const last = meter.last
    ? `Предыдущие: ${meter.last.values.map(decimal).join(' / ')} ${unit} на ${date(meter.last.taken_on)}`
    : 'Предыдущих показаний нет';
  const card = el('div', { class: 'card meter-form', 'data-meter-id': meter.id },
    el('div', {}, `№ ${meter.serial}`),
    el('div', { class: 'meta' }, last));
  if (meter.locked) {
    put(card, el('p', { class: 'notice' }, meter.next_verification && new Date(meter.next_verification) < new Date()
      ? `Срок поверки истёк ${date(meter.next_verification)}: показания не принимаются, закажите поверку.`
      : 'Показания этого счётчика передаются автоматически.'));
    return card;
  }
  const inputs = [];
  for (let i = 0; i < meter.tariffs; i += 1) {
    const id = `reading-${meter.id}-${i}`;
    const error = el('div', { class: 'hint error', id: `${id}-error`, role: 'alert', hidden: true });
    const input = el('input', {
      id, name: id, inputmode: 'decimal', autocomplete: 'off', enterkeyhint: 'next',
      placeholder: meter.last && meter.last.values[i] ? decimal(meter.last.values[i]) : '0',
      'aria-describedby': `${id}-error`,
    });
    input.addEventListener('input', () => { error.hidden = true; input.removeAttribute('aria-invalid'); });
    input.addEventListener('blur', () => show(error, input, check(meter, input.value, i)));
    inputs.push({ input, error });
    put(card,
      el('label', { for: id }, meter.tariffs > 1 ? `${TARIFFS[i]}, ${unit}` : `Показание, ${unit}`),
      input, error);
  }
  const result = el('p', { class: 'notice', role: 'status', hidden: true });
  put(card, result);
  fields.set(meter.id, { meter, inputs, result, unit });
  return card;
}

function show(error, input, message) {
  error.textContent = message;
  error.hidden = !message;
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
  return !message;
}

/** Shows one meter's answer under its fields. */
function showResult(entry, outcome) {
  const { result, inputs } = entry;
  result.hidden = false;
  if (outcome.result === 'accepted') {
    result.className = 'notice';
    result.textContent = outcome.duplicate
      ? 'Эти показания уже были переданы.'
      : `Принято: ${outcome.values.map(decimal).join(' / ')} ${entry.unit} на ${date(outcome.taken_on)}.`
        + (outcome.notice ? ` ${outcome.notice.message}.` : '');
    inputs.forEach(({ input }) => { input.disabled = true; });
    return;
  }
  const problem = outcome.problem;
  result.className = 'notice error';
  result.textContent = `${problem.message}.`;
  if (problem.tariff && inputs[problem.tariff - 1]) {
    const { input, error } = inputs[problem.tariff - 1];
    show(error, input, problem.message);
  }
  if (outcome.result === 'confirm_needed') entry.confirm = true;
}

async function pickProperty(root) {
  const list = await api('GET', '/properties');
  const linked = list.items.filter((p) => p.status === 'linked');
  if (linked.length === 1) return linked[0].id;
  root.innerHTML = '';
  put(root, el('h1', {}, 'Показания'), el('p', { class: 'meta' }, 'Выберите помещение.'));
  put(root, el('div', { class: 'stack' }, linked.map((p) => el('button', {
    type: 'button', class: 'card', onclick: () => navigate('readings', { propertyId: p.id }),
  }, `${p.address}, № ${p.number}`))));
  if (!linked.length) put(root, el('p', { class: 'notice' }, 'Сначала добавьте помещение.'));
  return null;
}

async function render(root, params) {
  const propertyId = params.propertyId || await pickProperty(root);
  if (!propertyId) return;
  const data = await api('GET', `/properties/${encodeURIComponent(propertyId)}/meters`);
  root.innerHTML = '';
  put(root, el('h1', {}, 'Показания'), windowNote(data.window));
  if (!data.items.length) {
    put(root, el('p', { class: 'meta' }, 'Счётчиков нет.'));
    return;
  }

  const fields = new Map();
  const groups = new Map();
  for (const meter of data.items) {
    if (!groups.has(meter.resource)) groups.set(meter.resource, []);
    groups.get(meter.resource).push(meter);
  }
  const form = el('form', { novalidate: true });
  // Water first, then electricity, gas and heat, as on a paper receipt.
  const order = Object.keys(RESOURCES);
  const rank = (resource) => (order.includes(resource) ? order.indexOf(resource) : order.length);
  const sorted = [...groups].sort(([a], [b]) => rank(a) - rank(b));
  for (const [resource, meters] of sorted) {
    put(form, el('h2', {}, RESOURCES[resource] || resource), ...meters.map((m) => meterCard(m, fields)));
  }
  const status = el('p', { class: 'notice', role: 'status', hidden: true });
  const submit = el('button', { type: 'submit', class: 'button' }, 'Передать показания');
  put(form, el('div', { class: 'stack' }, submit, status));
  if (data.window.strict && !data.window.open) submit.disabled = true;

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.hidden = true;
    const readings = [];
    let valid = true;
    for (const entry of fields.values()) {
      const typed = entry.inputs.map(({ input }) => input.value.trim());
      if (entry.inputs.every(({ input }) => input.disabled) || typed.every((t) => !t)) continue;
      entry.inputs.forEach(({ input, error }, i) => {
        const message = typed[i] ? check(entry.meter, typed[i], i) : 'Заполните все тарифы этого счётчика';
        if (!show(error, input, message)) valid = false;
      });
      readings.push({ meter_id: entry.meter.id, values: typed, confirm: Boolean(entry.confirm) });
    }
    if (!valid) return;
    if (!readings.length) {
      status.className = 'notice error';
      status.textContent = 'Введите показания хотя бы одного счётчика.';
      status.hidden = false;
      return;
    }
    submit.disabled = true;
    try {
      const answer = await api('POST', `/properties/${encodeURIComponent(propertyId)}/readings`, { readings });
      answer.meters.forEach((outcome) => showResult(fields.get(outcome.meter_id), outcome));
      const left = answer.meters.length - answer.accepted;
      status.className = left ? 'notice error' : 'notice';
      status.textContent = left
        ? `Принято счётчиков: ${answer.accepted} из ${answer.meters.length}. Исправьте отмеченные и отправьте снова.`
        : `Показания приняты (${answer.accepted}). Мы передадим их в ГИС ЖКХ; если там их не примут, напишем в чат.`;
      status.hidden = false;
    } catch (error) {
      status.className = 'notice error';
      status.textContent = error.message;
      status.hidden = false;
    }
    submit.disabled = false;
  });
  put(root, form);
}

registerScreen('readings', { title: 'Показания', render });
registerPropertyAction({ label: 'Передать показания', screen: 'readings' });
