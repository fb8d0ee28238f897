// Drives Debian's chromium (puppeteer-core) against a running `hpt dashboard`, for
// test_dashboard.py. Protocol over stdio, one JSON object per line:
//   -> stdout {"ready": {"trials": n, "best": v}}   the study page is open and shows n trials
//   <- stdin  {"trials": n, "best": v}              what the page must show once the study ends
//   -> stdout {"result": {...}}                     what was seen; exit 0, or 1 on a failure
// Usage: node dashboard_browser.js URL STUDY_ID PROFILE_DIR
//
// A second mode checks one multi-objective page (a report file:// URL or a dashboard study
// page) without a running study: node dashboard_browser.js --page URL PROFILE_DIR
//   -> stdout {"result": {errors, front, front_marks, infeasible_marks, pareto_cells, headers,
//                         tooltip, importance_charts}}; exit 0, or 1 on a failure
// A third reads one trial page: node dashboard_browser.js --trial URL PROFILE_DIR
//   -> stdout {"result": {errors, title, tables: [{name: text, ...}, ...]}} (its key-value tables)
// A fourth reads a running trial's page as a reader would while it refreshes: node
// dashboard_browser.js --follow URL PROFILE_DIR (the trial must log lines and report steps)
//   -> stdout {"result": {errors, log_at_end, details_open, log_top, refreshed}}: whether its
//      log showed its end first; after the reader opened the steps and scrolled the log up (to 10
//      px from its top), whether both stayed so once the page refreshed with more steps
// A fifth watches a study page while its study is deleted: node dashboard_browser.js --gone URL
// PROFILE_DIR; -> stdout {"ready": true} once the page shows the study, <- stdin {} (any JSON) once
// the study is deleted, -> stdout {"result": {errors (uncaught ones only), live, trials_shown,
// requests_after}}: the page's status line, the count it still shows, and the URLs it asked for
// in the 3 s after it said the study was gone
'use strict';

const puppeteer = require('puppeteer-core');
const readline = require('readline');

const pageMode = ['--page', '--trial', '--follow', '--gone'].includes(process.argv[2]);
const trialMode = process.argv[2] === '--trial';
const followMode = process.argv[2] === '--follow';
const goneMode = process.argv[2] === '--gone';
const [url, studyId, profile] = pageMode
  ? [process.argv[3], null, process.argv[4]] : process.argv.slice(2);
const result = { errors: [], counts: [], bests: [] };

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function nextLine() {
  const rl = readline.createInterface({ input: process.stdin });
  return new Promise((resolve) => rl.once('line', (line) => { rl.close(); resolve(JSON.parse(line)); }));
}

async function stats(page) {
  return page.evaluate(() => {
    const n = document.getElementById('stat-trials');
    const b = document.getElementById('stat-best');
    return { trials: n ? Number(n.textContent) : null, best: b && b.dataset.value !== '' ? Number(b.dataset.value) : null,
             running: !!document.querySelector('#stats .st-RUNNING') };
  });
}

// Records the page's console errors, uncaught exceptions and failed requests in result.errors.
function watchErrors(page) {
  page.on('console', (m) => { if (m.type() === 'error') result.errors.push('console: ' + m.text()); });
  page.on('pageerror', (e) => result.errors.push('page: ' + e.message));
  page.on('requestfailed', (r) => {
    // Leaving a page aborts its polls in flight; that is not an error of the page.
    if (r.failure() && r.failure().errorText !== 'net::ERR_ABORTED') result.errors.push('request failed: ' + r.url());
  });
  page.on('response', (r) => { if (r.status() >= 400) result.errors.push('HTTP ' + r.status() + ': ' + r.url()); });
}

// The multi-objective page at url: its Pareto plot, importances, trials table and a tooltip.
async function checkPage(browser) {
  const page = await browser.newPage();
  watchErrors(page);
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelector('#pareto svg') &&
    document.querySelector('#importance svg') && document.querySelectorAll('#trials-body tr').length > 0,
  { timeout: 30000 });
  result.front = await page.$eval('#pareto', (s) => s.getAttribute('data-front'));
  result.front_marks = await page.$$eval('#pareto g.front circle, #pareto polyline[stroke="#d62728"]', (e) => e.length);
  result.infeasible_marks = await page.$$eval('#pareto circle.infeasible', (e) => e.length);
  result.pareto_cells = await page.$$eval('#trials-body td.pareto', (e) => e.length);
  result.headers = await page.$$eval('#trials-head th', (ths) => ths.map((t) => t.textContent));
  result.importance_charts = await page.$$eval('#importance svg', (e) => e.length);
  result.tooltip = await page.evaluate(() => {
    const mark = document.querySelector('#pareto g.front circle, #pareto polyline[stroke="#d62728"]');
    if (!mark) return '';
    mark.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
    return document.getElementById('tip').textContent;
  });
}

// The trial page at url: its title and the text of each key-value table.
async function checkTrial(browser) {
  const page = await browser.newPage();
  watchErrors(page);
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#trial-title', { timeout: 15000 });
  result.title = await page.$eval('#trial-title', (e) => e.textContent);
  result.tables = await page.$$eval('table.kv', (tables) => tables.map((t) =>
    Object.fromEntries([...t.querySelectorAll('tr')].map((r) => [r.cells[0].textContent, r.cells[1].textContent]))));
}

// The study page at url while its study is deleted (see --gone above).
async function watchGone(browser) {
  const page = await browser.newPage();
  const requests = [];
  page.on('pageerror', (e) => result.errors.push('page: ' + e.message));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#stat-trials', { timeout: 15000 });
  send({ ready: true });
  await nextLine();
  await page.waitForFunction(() => document.documentElement.getAttribute('data-hpt-gone') === '1',
    { timeout: 30000 });
  result.live = await page.$eval('#live', (e) => e.textContent);
  result.trials_shown = await page.$eval('#stat-trials', (e) => Number(e.textContent));
  const before = requests.length;
  await new Promise((r) => setTimeout(r, 3000));
  result.requests_after = requests.slice(before);
}

// The running trial's page at url, read while it refreshes (see --follow above).
async function followTrial(browser) {
  const page = await browser.newPage();
  watchErrors(page);
  await page.goto(url, { waitUntil: 'load' });
  const scrollable = () => {
    const log = document.getElementById('trial-log');
    return !!document.querySelector('#trial details') && !!log && log.scrollHeight > log.clientHeight + 20;
  };
  await page.waitForFunction(scrollable, { timeout: 60000 });
  const steps = await page.evaluate(() => {
    const log = document.getElementById('trial-log');
    window.hptAtEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 2;
    document.querySelector('#trial details').open = true;
    log.scrollTop = 10; // Up from the end, not at the top either.
    return document.querySelector('#trial details summary').textContent;
  });
  result.log_at_end = await page.evaluate(() => window.hptAtEnd);
  await page.waitForFunction((before) => {
    const summary = document.querySelector('#trial details summary');
    return summary && summary.textContent !== before;
  }, { timeout: 30000 }, steps);
  Object.assign(result, await page.evaluate(() => ({
    details_open: document.querySelector('#trial details').open,
    log_top: document.getElementById('trial-log').scrollTop,
  })));
  result.refreshed = true;
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    userDataDir: profile,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    if (pageMode) {
      const check = goneMode ? watchGone : followMode ? followTrial : trialMode ? checkTrial : checkPage;
      await check(browser);
      return;
    }
    const page = await browser.newPage();
    watchErrors(page);

    // The studies list links to the study.
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('#studies-table a', { timeout: 15000 });
    result.studies = await page.$$eval('#studies-table tbody tr', (rows) => rows.length);

    await page.goto(url + 'studies/' + studyId, { waitUntil: 'load' });
    await page.waitForSelector('#stat-trials', { timeout: 15000 });
    const first = await stats(page);
    result.counts.push(first.trials);
    result.bests.push(first.best);
    send({ ready: { trials: first.trials, best: first.best } });

    // Sample the page while the study runs, until it shows what the study ended with.
    let expected = null;
    nextLine().then((line) => { expected = line; });
    const deadline = Date.now() + 120000;
    let seen = first;
    for (;;) {
      if (Date.now() > deadline) throw new Error('the page never showed ' + JSON.stringify(expected) + '; last ' + JSON.stringify(seen));
      await new Promise((r) => setTimeout(r, 150));
      seen = await stats(page);
      if (seen.trials !== result.counts[result.counts.length - 1]) result.counts.push(seen.trials);
      if (seen.best !== result.bests[result.bests.length - 1]) result.bests.push(seen.best);
      if (expected && seen.trials === expected.trials && seen.best === expected.best && !seen.running) break;
    }

    // The plots arrive without a reload; selecting a trial in one plot marks it in the others.
    await page.waitForFunction(
      (n) => document.querySelectorAll('#plots g[data-t]').length > 0 &&
        document.getElementById('plots').dataset.revision !== undefined &&
        document.querySelectorAll('#trials-body tr').length === Math.min(n, 500),
      { timeout: 30000 }, seen.trials);
    result.plot_groups = await page.$$eval('#plots g[data-t]', (gs) => gs.length);
    result.selected_marks = await page.evaluate(() => {
      const mark = document.querySelector('#history g[data-t] circle');
      if (!mark) return -1;
      const box = mark.getBoundingClientRect();
      for (const type of ['mousedown', 'mouseup']) {
        mark.dispatchEvent(new MouseEvent(type, { bubbles: true, button: 0, clientX: box.x + box.width / 2, clientY: box.y + box.height / 2 }));
      }
      return document.querySelectorAll('#plots .sel').length;
    });
    result.selected_rows = await page.$$eval('#trials-body tr.sel', (rows) => rows.length);
    // The selected trial's bar in the timeline is marked too; clicking another bar selects it.
    result.timeline_selected = await page.$$eval('#timeline g.bars line.sel', (e) => e.length);
    result.timeline_click = await page.evaluate(() => {
      const bar = document.querySelector('#timeline g.bars line:not(.sel)');
      if (!bar) return null;
      const box = bar.getBoundingClientRect();
      for (const type of ['mousedown', 'mouseup']) {
        bar.dispatchEvent(new MouseEvent(type, { bubbles: true, button: 0, clientX: box.x + box.width / 2, clientY: box.y + box.height / 2 }));
      }
      return { bars: document.querySelectorAll('#timeline g.bars line.sel').length,
               rows: document.querySelectorAll('#trials-body tr.sel').length };
    });

    // Polls that bring nothing new leave the page's nodes alone (a click across a redraw is lost).
    result.kept_nodes = await page.evaluate(async () => {
      const nodes = [document.getElementById('stat-trials'), document.querySelector('#trials-body tr'),
        document.querySelector('#stats a')];
      await new Promise((r) => setTimeout(r, 2500));
      return nodes.map((n) => !!n && n.isConnected);
    });

    // A trial page opens from the table.
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#trials-body a')]);
    await page.waitForSelector('#trial-title', { timeout: 15000 });
    result.trial_title = await page.$eval('#trial-title', (e) => e.textContent);
    result.trial_has_log = await page.evaluate(() => !!document.getElementById('trial-log'));
  } finally {
    await browser.close();
  }
}

main().then(
  () => { send({ result }); process.exit(result.errors.length ? 1 : 0); },
  (e) => { result.errors.push('driver: ' + e.message); send({ result }); process.exit(1); });
