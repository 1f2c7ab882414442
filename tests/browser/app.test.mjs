// The mini-app in Debian's headless chromium against a running gosdom in sandbox mode:
// launch data in the URL fragment (as the sandbox MAX simulator opens it) → sign in with
// the sandbox ЕСИА → «Мои объекты». Started by `cargo test --test browser`, which passes
// GOSDOM_URL, GOSDOM_LAUNCH (signed launch data) and BROWSER_SCREENSHOTS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const base = process.env.GOSDOM_URL;
const launch = process.env.GOSDOM_LAUNCH;
const shots = process.env.BROWSER_SCREENSHOTS;

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

async function open(viewport, colorScheme) {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, timeout: 60000 });
  const context = await browser.newContext({ viewport, colorScheme, locale: 'ru-RU' });
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
