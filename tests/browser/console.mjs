// The console in a real browser: sign in as an admin, look at every screen, retry a failed
// exchange job, add a staff account, see the owners register, sign out; then sign in as a
// dispatcher, take a request from new to done with a comment, and download the readings
// CSV of a month. Run by tests/console_browser.rs with GOSDOM_URL, CONSOLE_LOGIN,
// CONSOLE_PASSWORD, DISPATCHER_LOGIN, REQUEST_NUMBER, READINGS_PERIOD, METER_ID and
// METER_SERIAL; exits non-zero with the reason on failure.

import { readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';

const base = process.env.GOSDOM_URL;
const login = process.env.CONSOLE_LOGIN;
const password = process.env.CONSOLE_PASSWORD;
const shots = process.env.SCREENSHOT_DIR;
const dispatcher = process.env.DISPATCHER_LOGIN;
const requestNumber = process.env.REQUEST_NUMBER;
const period = process.env.READINGS_PERIOD;
const meterId = process.env.METER_ID;
const meterSerial = process.env.METER_SERIAL;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
const errors = [];
let noNull;
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.setDefaultTimeout(15000);
  // The browser's own append prints a skipped child as the word "null".
  noNull = async (where) => {
    const text = await page.locator('main').textContent();
    if (/\bnull\b|\bundefined\b/.test(text)) throw new Error(`${where} shows "null" or "undefined"`);
  };
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
  for (const screen of ['Заявки', 'Показания', 'Дома и чаты', 'Реестр собственников', 'Объявления', 'Обмен с ГИС ЖКХ', 'Статистика', 'Пользователи']) {
    await nav.getByRole('link', { name: screen }).waitFor();
  }

  await nav.getByRole('link', { name: 'Дома и чаты' }).click();
  await page.getByRole('cell', { name: /ул\. Баумана/ }).waitFor();
  if (!page.url().endsWith('/console/houses')) throw new Error(`URL ${page.url()}`);
  await noNull('«Дома и чаты»');

  await nav.getByRole('link', { name: 'Заявки' }).click();
  await page.getByText('просроченные').waitFor();

  await nav.getByRole('link', { name: 'Показания' }).click();
  await page.getByRole('link', { name: 'Выгрузить CSV для биллинга' }).waitFor();
  await page.getByText('счётчиков', { exact: true }).waitFor();

  await nav.getByRole('link', { name: 'Реестр собственников' }).click();
  await page.getByRole('cell', { name: /ул\. Баумана/ }).waitFor();
  await page.getByText('Загрузок ещё не было.').waitFor();
  const badFile = 'house_fias_guid,premise_number,full_name,birth_date,snils,share\n00000000-0000-0000-0000-000000000000,1,Тест Тестов,1980-01-01,,1\n';
  await page.locator('input[type="file"]').setInputFiles({ name: 'owners.csv', mimeType: 'text/csv', buffer: Buffer.from(badFile) });
  await page.getByRole('button', { name: 'Загрузить' }).click();
  await page.getByRole('alert').filter({ hasText: 'Ничего не загружено' }).waitFor();
  await page.getByRole('cell', { name: /строка 2: нет дома с ФИАС GUID/ }).waitFor();
  if (shots) await page.screenshot({ path: `${shots}/register.png`, fullPage: true });

  await nav.getByRole('link', { name: 'Обмен с ГИС ЖКХ' }).click();
  await page.getByRole('cell', { name: 'SRV006000 тестовая ошибка' }).waitFor();
  await page.getByRole('button', { name: 'Повторить' }).click();
  await page.getByText('поставлено в очередь').waitFor();

  await nav.getByRole('link', { name: 'Статистика' }).click();
  await page.locator('svg.chart').waitFor();
  await page.getByText('Вошли через Госуслуги').first().waitFor();
  await noNull('«Статистика»');
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

  // A dispatcher of the УО: a request from new to done.
  await page.getByLabel('Логин').fill(dispatcher);
  await page.getByLabel('Пароль').fill(password);
  await page.getByRole('button', { name: 'Войти' }).click();
  await nav.waitFor();
  if (await nav.getByRole('link', { name: 'Реестр собственников' }).count() !== 0) {
    throw new Error('an operator sees the owners register');
  }
  // The УО's staff open on «Заявки», the dispatcher's work.
  await page.getByRole('heading', { name: 'Заявки', level: 1 }).waitFor();
  await page.locator('select[name="category"]').getByRole('option', { name: 'Водоснабжение' }).waitFor({ state: 'attached' });
  await nav.getByRole('link', { name: 'Дома и чаты' }).click();
  await page.getByRole('cell', { name: /ул\. Баумана/ }).waitFor();
  await noNull('«Дома и чаты» of an operator');
  await nav.getByRole('link', { name: 'Статистика' }).click();
  await page.locator('svg.chart').waitFor();
  await noNull('«Статистика» of an operator');
  await nav.getByRole('link', { name: 'Заявки' }).click();
  const row = page.getByRole('row').filter({ hasText: requestNumber });
  await row.waitFor();
  await row.click();
  const card = page.locator('.request-card');
  await card.getByRole('heading', { name: `Заявка № ${requestNumber}` }).waitFor();
  if (await card.getByRole('button', { name: 'Закрыть' }).count() !== 0) throw new Error('a new request offers «Закрыть»');
  await card.getByRole('button', { name: 'В работу' }).click();
  await card.getByText(/^В работе/).waitFor();
  if (await card.getByRole('button', { name: 'В работу' }).count() !== 0) throw new Error('a request in work offers «В работу»');
  await card.locator('ol.timeline').getByText(new RegExp(`· ${dispatcher}$`)).first().waitFor();
  if (/staff:|resident:/.test(await card.locator('ol.timeline').textContent())) throw new Error('the history shows raw author ids');
  await card.getByPlaceholder(/Причина/).fill('Заменили прокладку, напор восстановлен');
  await card.getByRole('button', { name: 'Выполнена' }).click();
  await card.getByText(/^Выполнена/).first().waitFor();
  await card.locator('ol.timeline').getByText('Заменили прокладку, напор восстановлен').waitFor();
  await card.getByRole('button', { name: 'Закрыть' }).waitFor();
  if (await card.getByRole('button', { name: 'Выполнена' }).count() !== 0) throw new Error('a done request offers «Выполнена»');
  if (shots) await page.screenshot({ path: `${shots}/request-done.png`, fullPage: true });

  // «Показания»: last month of the demo house, the known meter, and the CSV download.
  await nav.getByRole('link', { name: 'Показания' }).click();
  await page.locator('input[name="period"]').fill(period);
  await page.locator('select[name="house_id"]').selectOption({ label: 'г. Казань, ул. Баумана, д. 44' });
  await page.getByRole('button', { name: 'Показать' }).click();
  const meterRow = page.locator(`tr[data-meter-id="${meterId}"]`);
  await meterRow.getByText(`№ ${meterSerial}`).waitFor();
  await meterRow.getByText('переданы').waitFor();
  await page.locator('select[name="shown"]').selectOption('missing');
  await page.getByText('Таких счётчиков нет.').waitFor();
  if (shots) await page.screenshot({ path: `${shots}/readings.png`, fullPage: true });

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Выгрузить CSV для биллинга' }).click(),
  ]);
  if (!download.suggestedFilename().startsWith(`readings-${period}`)) {
    throw new Error(`file name ${download.suggestedFilename()}`);
  }
  const bytes = await readFile(await download.path());
  if (bytes[0] !== 0xef || bytes[1] !== 0xbb || bytes[2] !== 0xbf) throw new Error('no UTF-8 BOM');
  const lines = bytes.subarray(3).toString('utf8').trim().split('\n');
  if (!lines[0].startsWith('organisation_inn,house_fias_guid,house_address,premise,accounts,meter_id,')) {
    throw new Error(`CSV header: ${lines[0]}`);
  }
  const known = lines.find((line) => line.includes(`,${meterId},`) && line.includes(`,${meterSerial},`));
  if (!known || !known.includes('ул. Баумана') || !known.includes(`,${period}-22,confirmed,`)) {
    throw new Error(`no row of meter ${meterId} in the CSV: ${lines.slice(0, 3).join(' | ')}`);
  }
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
