// The console in a real browser: sign in as an admin, look at every screen, retry a failed
// exchange job, add a staff account, sign out. Run by tests/console_browser.rs with
// GOSDOM_URL, CONSOLE_LOGIN and CONSOLE_PASSWORD; exits non-zero with the reason on failure.

import { chromium } from 'playwright-core';

const base = process.env.GOSDOM_URL;
const login = process.env.CONSOLE_LOGIN;
const password = process.env.CONSOLE_PASSWORD;
const shots = process.env.SCREENSHOT_DIR;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));

  await page.goto(`${base}/console/`);
  await page.getByLabel('Логин').fill(login);
  await page.getByLabel('Пароль').fill('не тот пароль');
  await page.getByRole('button', { name: 'Войти' }).click();
  await page.getByText('Неверный логин или пароль.').waitFor();

  await page.getByLabel('Пароль').fill(password);
  await page.getByRole('button', { name: 'Войти' }).click();
  const nav = page.getByRole('navigation', { name: 'Разделы' });
  await nav.waitFor();
  for (const screen of ['Заявки', 'Показания', 'Дома и чаты', 'Объявления', 'Обмен с ГИС ЖКХ', 'Статистика', 'Пользователи']) {
    await nav.getByRole('link', { name: screen }).waitFor();
  }

  await nav.getByRole('link', { name: 'Дома и чаты' }).click();
  await page.getByRole('cell', { name: /ул\. Баумана/ }).waitFor();
  if (!page.url().endsWith('/console/houses')) throw new Error(`URL ${page.url()}`);

  await nav.getByRole('link', { name: 'Заявки' }).click();
  await page.getByText('просроченные').waitFor();

  await nav.getByRole('link', { name: 'Показания' }).click();
  await page.getByText('Раздел в разработке.').waitFor();

  await nav.getByRole('link', { name: 'Обмен с ГИС ЖКХ' }).click();
  await page.getByRole('cell', { name: 'SRV006000 тестовая ошибка' }).waitFor();
  await page.getByRole('button', { name: 'Повторить' }).click();
  await page.getByText('поставлено в очередь').waitFor();

  await nav.getByRole('link', { name: 'Статистика' }).click();
  await page.locator('svg.chart').waitFor();
  await page.getByText('Вошли через Госуслуги').first().waitFor();
  if (shots) await page.screenshot({ path: `${shots}/usage.png` });

  await nav.getByRole('link', { name: 'Пользователи' }).click();
  await page.getByLabel('Логин').fill('browser.operator');
  await page.getByLabel('Пароль (не короче 10 символов)').fill('пароль из браузера');
  await page.getByRole('button', { name: 'Добавить' }).click();
  await page.getByRole('cell', { name: 'browser.operator' }).waitFor();
  await page.getByText(/Последние действия/).click();
  await page.getByRole('cell', { name: 'добавлена учётная запись' }).first().waitFor();

  // A reload keeps the session and the screen.
  await page.reload();
  await page.getByRole('cell', { name: 'browser.operator' }).waitFor();

  await page.getByRole('button', { name: 'Выйти' }).click();
  await page.getByRole('button', { name: 'Войти' }).waitFor();
  await page.goto(`${base}/console/users`);
  await page.getByRole('button', { name: 'Войти' }).waitFor();
} catch (e) {
  errors.push(e.message);
} finally {
  await browser.close();
}
if (errors.length > 0) {
  console.error(errors.join('\n'));
  process.exit(1);
}
console.log('console browser test passed');
