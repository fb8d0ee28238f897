// Types into a report's trials-table filters in Debian's chromium (puppeteer-core), for
// test_dashboard.py. Parameters may carry any name a study holds, "__proto__" and
// "constructor" included: their filters must filter, and never touch Object.prototype.
// Usage: node report_filters.js URL PROFILE_DIR
//   -> stdout {"result": {errors, rows: {...}, polluted}}; exit 0, or 1 on a failure
'use strict';

const puppeteer = require('puppeteer-core');

const [url, profile] = process.argv.slice(2);
const result = { errors: [], rows: {}, polluted: [] };

async function rowCount(page) {
  return page.$$eval('#trials-body tr', (rows) => rows.length);
}

// Sets the filter input of parameter name, bound b (min, max or text), to value.
async function setFilter(page, name, b, value) {
  await page.evaluate((n, bound, v) => {
    const el = [...document.querySelectorAll('input[data-p]')]
      .find((e) => e.dataset.p === n && e.dataset.b === bound);
    if (!el) throw new Error('no filter ' + n + ' ' + bound);
    el.value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, name, b, value);
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium', headless: true, userDataDir: profile,
    args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => result.errors.push('page: ' + e.message));
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => document.querySelectorAll('#trials-body tr').length > 0, { timeout: 30000 });
    result.rows.all = await rowCount(page);
    // Trial 0's value is -inf: a number on the page, and shown as such in its row.
    result.value0 = await page.evaluate(() =>
      String(window.HptReport.rows().find((r) => r.number === 0).value));
    result.infinity_rows = await page.$$eval('#trials-body tr',
      (rows) => rows.filter((tr) => tr.textContent.includes('-Infinity')).length);
    result.null_cells = await page.$$eval('#trials-body td',
      (cells) => cells.filter((td) => td.textContent === 'null').length);
    await setFilter(page, '__proto__', 'min', '2');
    result.rows.proto_min_2 = await rowCount(page);
    await setFilter(page, '__proto__', 'min', '');
    await setFilter(page, 'constructor', 'text', 'b');
    result.rows.constructor_b = await rowCount(page);
    await setFilter(page, 'constructor', 'text', '');
    result.rows.cleared = await rowCount(page);
    result.polluted = await page.evaluate(() =>
      ['min', 'max', 'text'].filter((k) => k in {} || k in Object));
  } finally {
    await browser.close();
  }
}

main().then(
  () => {
    process.stdout.write(JSON.stringify({ result }) + '\n');
    process.exit(result.errors.length || result.polluted.length ? 1 : 0);
  },
  (e) => {
    result.errors.push('driver: ' + e.message);
    process.stdout.write(JSON.stringify({ result }) + '\n');
    process.exit(1);
  });
