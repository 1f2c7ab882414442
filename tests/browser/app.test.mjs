// The mini-app in Debian's headless chromium against a running gosdom in sandbox mode:
// launch data in the URL fragment (as the sandbox MAX simulator opens it) → sign in with
// the sandbox ЕСИА → «Мои объекты»; «Показания» (a comma accepted, the confirmation, an
// inline error for a lower value); «Заявки» (a new request with the category search, the
// list with status and deadline, the card with its timeline). One chromium for the file,
// a fresh context per test. Started by `cargo test --test browser`, which passes
// GOSDOM_URL, GOSDOM_LAUNCH (signed launch data) and BROWSER_SCREENSHOTS; the server
// takes readings on any day (`readings.any_day`), so the test does not depend on the date.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, request } from 'playwright-core';

const base = process.env.GOSDOM_URL;
const launch = process.env.GOSDOM_LAUNCH;
const shots = process.env.BROWSER_SCREENSHOTS;
const staffLogin = process.env.STAFF_LOGIN;
const staffPassword = process.env.STAFF_PASSWORD;

// The УО's side through the console API: the request goes in work, then done.
async function staffFinishes(requestId, comment) {
  const staff = await request.newContext({ baseURL: base });
  try {
    const session = await staff.post('/api/console/v1/session', { data: { login: staffLogin, password: staffPassword } });
    assert.equal(session.status(), 200, await session.text());
    const headers = { 'X-CSRF-Token': (await session.json()).csrf_token };
    for (const body of [{ status: 'in_work' }, { status: 'done', reason: comment }]) {
      const res = await staff.post(`/api/console/v1/requests/${requestId}/status`, { data: body, headers });
      assert.equal(res.status(), 200, await res.text());
    }
  } finally {
    await staff.dispose();
  }
}

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

let shared = null;
before(async () => {
  shared = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, timeout: 60000 });
});
after(async () => {
  if (shared) await shared.close();
});

// A fresh context (no storage, no cookies) of the file's one browser; `browser.close()`
// closes the context only.
async function open(viewport, colorScheme) {
  const context = await shared.newContext({ viewport, colorScheme, locale: 'ru-RU' });
  const browser = { close: () => context.close() };
  const page = await context.newPage();
  // No network but loopback: MAX's bridge script is answered empty, as outside MAX.
  await page.route('https://st.max.ru/**', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: '' }));
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { browser, page, errors };
}

test('a resident opens the mini-app, signs in through the sandbox ЕСИА and sees «Мои объекты»', async () => {
  assert.ok(base && launch, 'GOSDOM_URL and GOSDOM_LAUNCH are set');
  const { browser, page, errors } = await open({ width: 390, height: 844 }, 'light');
  try {
    await page.goto(`${base}/app/#WebAppData=${encodeURIComponent(launch)}`);
    const signIn = page.getByRole('button', { name: 'Войти через Госуслуги' });
    await signIn.waitFor({ timeout: 15000 });
    assert.equal(new URL(page.url()).hash, '', 'launch data is dropped from the address bar');
    if (shots) await page.screenshot({ path: `${shots}/signin.png`, fullPage: true });

    await signIn.click();
    await page.waitForURL(/\/dev\/esia\/login/, { timeout: 15000 });
    await page.getByRole('button', { name: 'Войти как Анна' }).click();

    const heading = page.getByRole('heading', { name: 'Мои объекты' });
    await heading.waitFor({ timeout: 15000 });
    const cards = page.locator('.card.property');
    assert.equal(await cards.count(), 2);
    const text = await page.locator('main').innerText();
    assert.match(text, /ул\. Баумана, д\. 44/);
    assert.match(text, /№ 12/);
    assert.match(text, /Право подтверждено/);
    assert.doesNotMatch(page.url(), /esia=/, 'the completion code is dropped from the address bar');
    if (shots) await page.screenshot({ path: `${shots}/properties.png`, fullPage: true });

    await cards.first().click();
    await page.getByRole('heading', { name: 'Характеристики' }).waitFor({ timeout: 15000 });
    assert.match(await page.locator('main').innerText(), /Счётчики/);
    if (shots) await page.screenshot({ path: `${shots}/property.png`, fullPage: true });
    await page.getByRole('button', { name: 'Назад' }).click();
    await heading.waitFor();

    await page.getByRole('button', { name: 'Выйти' }).click();
    await page.getByText('Вы вышли').waitFor({ timeout: 15000 });
    assert.deepEqual(errors.filter((e) => !e.includes('403')), []);
  } finally {
    await browser.close();
  }
});

// Opens the mini-app and signs in through the sandbox ЕСИА as Анна (two flats).
async function signInAsAnna(page) {
  await page.goto(`${base}/app/#WebAppData=${encodeURIComponent(launch)}`);
  const heading = page.getByRole('heading', { name: 'Мои объекты' });
  const signIn = page.getByRole('button', { name: 'Войти через Госуслуги' });
  await Promise.race([heading.waitFor({ timeout: 15000 }), signIn.waitFor({ timeout: 15000 })]);
  if (await signIn.isVisible()) {
    await signIn.click();
    await page.waitForURL(/\/dev\/esia\/login/, { timeout: 15000 });
    await page.getByRole('button', { name: 'Войти как Анна' }).click();
  }
  await heading.waitFor({ timeout: 15000 });
}

// «12,5» for 12.5: how the screen shows decimals.
const comma = (n) => n.toFixed(3).replace('.', ',');
const parse = (text) => Number(String(text).replace(',', '.'));

test('«Показания»: a comma is accepted, the confirmation says what was taken, a lower value is refused inline', async () => {
  const { browser, page, errors } = await open({ width: 390, height: 844 }, 'light');
  try {
    await signInAsAnna(page);
    await page.locator('.card.property').first().click();
    await page.getByRole('button', { name: 'Передать показания' }).click();
    await page.getByRole('heading', { name: 'Показания' }).waitFor({ timeout: 15000 });
    await page.getByText('Показания принимаются в любой день.').waitFor();
    const text = await page.locator('main').innerText();
    assert.match(text, /Холодная вода/);
    assert.match(text, /Горячая вода/);
    assert.match(text, /Предыдущие: .* на \d\d\.\d\d\.\d{4}/);

    // Two single-tariff water meters: one gets a lower value, the other a good one.
    const fields = page.getByLabel('Показание, м³');
    const cold = fields.nth(0);
    const hot = fields.nth(1);
    const coldBefore = parse(await cold.getAttribute('placeholder'));
    const hotBefore = parse(await hot.getAttribute('placeholder'));
    assert.ok(coldBefore > 0 && hotBefore > 10, 'previous values are shown in the fields');

    await hot.fill(comma(hotBefore - 10));
    await hot.blur();
    const inline = page.getByRole('alert').filter({ hasText: 'Значение меньше предыдущего' });
    await inline.waitFor({ timeout: 5000 });
    assert.equal(await hot.getAttribute('aria-invalid'), 'true');
    await page.getByRole('button', { name: 'Передать показания' }).click();
    assert.equal(await page.getByText('Показания приняты').count(), 0, 'nothing is sent while a field is wrong');
    if (shots) await page.screenshot({ path: `${shots}/readings-lower.png`, fullPage: true });

    await hot.fill('');
    const typed = comma(coldBefore + 2.5);
    await cold.fill(typed);
    await page.getByRole('button', { name: 'Передать показания' }).click();
    await page.getByText('Показания приняты (1)').waitFor({ timeout: 15000 });
    const accepted = page.getByRole('status').filter({ hasText: `Принято: ${typed.replace(/0+$/, '').replace(/,$/, '')}` });
    await accepted.first().waitFor({ timeout: 5000 });
    assert.ok(await cold.isDisabled(), 'an accepted meter is done for now');
    if (shots) await page.screenshot({ path: `${shots}/readings-accepted.png`, fullPage: true });

    await page.getByRole('button', { name: 'Выйти' }).click();
    await page.getByText('Вы вышли').waitFor({ timeout: 15000 });
    assert.deepEqual(errors.filter((e) => !e.includes('403')), []);
  } finally {
    await browser.close();
  }
});

test('«Заявки»: a new request through the category search shows in the list with status and deadline; its card has the timeline; done, it is rated and reopened', async () => {
  const { browser, page, errors } = await open({ width: 390, height: 844 }, 'light');
  try {
    await signInAsAnna(page);
    await page.locator('.card.property').first().click();
    await page.getByRole('button', { name: 'Мои заявки' }).click();
    await page.getByRole('heading', { name: 'Заявки' }).waitFor({ timeout: 15000 });
    await page.getByRole('button', { name: 'Новая заявка' }).click();
    await page.getByRole('heading', { name: 'Новая заявка' }).waitFor({ timeout: 15000 });

    await page.getByLabel('Описание').fill('Слабый напор холодной воды на кухне с утра');
    await page.getByRole('button', { name: 'Отправить' }).click();
    await page.getByText('Выберите проблему из списка.').waitFor({ timeout: 5000 });

    await page.getByLabel('Проблема').fill('напор');
    await page.getByRole('option', { name: 'Слабый напор воды — Квартира, Водоснабжение' }).click();
    await page.getByText(/Водоснабжение · Слабый напор воды/).waitFor();
    await page.getByRole('button', { name: 'Отправить' }).click();

    const card = page.getByRole('heading', { name: /^Заявка № / });
    await card.waitFor({ timeout: 15000 });
    const number = (await card.innerText()).replace('Заявка № ', '');
    await page.getByRole('heading', { name: 'Ход заявки' }).waitFor();
    assert.match(await page.locator('main').innerText(), /Принята/);
    if (shots) await page.screenshot({ path: `${shots}/request-card.png`, fullPage: true });

    // Back to the list: the request with its status and deadline.
    await page.getByRole('button', { name: 'Назад' }).click();
    await page.getByRole('button', { name: 'Назад' }).click();
    const item = page.getByRole('listitem').filter({ hasText: `№ ${number}` });
    await item.waitFor({ timeout: 15000 });
    const itemText = await item.innerText();
    assert.match(itemText, /Слабый напор воды/);
    assert.match(itemText, /срок \d\d\.\d\d\.\d{4}/);
    assert.match(itemText, /Принята/);
    if (shots) await page.screenshot({ path: `${shots}/requests.png`, fullPage: true });

    const requestId = await item.getAttribute('data-request-id');
    await item.click();
    await page.getByRole('heading', { name: 'Ход заявки' }).waitFor({ timeout: 15000 });
    const timeline = page.locator('ol.timeline li');
    assert.ok(await timeline.count() >= 1, 'the timeline has the filing');
    assert.match(await page.locator('ol.timeline').innerText(), /Вы|Система/);

    // The УО finishes it: the card shows the answer, a rating and a way to reopen.
    await staffFinishes(requestId, 'Прочистили фильтр, напор восстановлен');
    await page.getByRole('button', { name: 'Назад' }).click();
    await item.click();
    await page.locator('ol.timeline').getByText('Прочистили фильтр, напор восстановлен').waitFor({ timeout: 15000 });
    await page.getByText('Выполнена').first().waitFor();
    await page.getByRole('button', { name: 'Оценка 5' }).click();
    await page.getByRole('button', { name: 'Оценка 5' }).waitFor({ state: 'detached', timeout: 15000 });
    await page.locator('#reopen-reason').fill('Напор снова слабый');
    await page.getByRole('button', { name: 'Вернуть в работу' }).click();
    await page.locator('ol.timeline').getByText('Напор снова слабый').waitFor({ timeout: 15000 });
    await page.getByText('Возобновлена').first().waitFor();
    if (shots) await page.screenshot({ path: `${shots}/request-reopened.png`, fullPage: true });
    await page.getByRole('button', { name: 'Выйти' }).click();
    await page.getByText('Вы вышли').waitFor({ timeout: 15000 });
    assert.deepEqual(errors.filter((e) => !e.includes('403')), []);
  } finally {
    await browser.close();
  }
});

test('an unconfirmed account is told what to do; the dark desktop layout renders', async () => {
  const { browser, page } = await open({ width: 1280, height: 800 }, 'dark');
  try {
    await page.goto(`${base}/app/#WebAppData=${encodeURIComponent(launch)}`);
    await page.getByRole('button', { name: 'Войти через Госуслуги' }).click();
    await page.waitForURL(/\/dev\/esia\/login/, { timeout: 15000 });
    await page.getByRole('button', { name: 'Войти как Олег' }).click();
    await page.getByText('Подтвердите личность', { exact: false }).waitFor({ timeout: 15000 });
    if (shots) await page.screenshot({ path: `${shots}/unconfirmed.png` });
  } finally {
    await browser.close();
  }
});
