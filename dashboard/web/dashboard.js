// hpt dashboard: a single-page app over the JSON API of `hpt dashboard` (embedded into the
// binary at build time; no network beyond the hpt server it came from).
//
// Pages, chosen by the URL path:
//   /                          the studies: name, direction, trials by state, best, last activity
//   /studies/ID                one study: live counts and best value (a multi-objective study:
//                              its directions; the plots show its Pareto front), the report's plots, the
//                              trials table (report.js: sort, filters, selection across plots)
//   /studies/ID/trials/NUMBER  one trial: params, value, times, fail reason, intermediate values,
//                              user attributes, its learning curve, ROC curve and confusion matrix
//                              and model view (built-in trainer), and the tail of its log
// The study page asks the server only for the trials changed since its last poll (a cursor), and
// swaps in fresh plots when the server has rendered them; report.js keeps zoom and selection.
(function () {
  'use strict';

  const POLL_MS = 1000;
  const report = window.HptReport;
  const esc = report.escape;
  const fmt = report.format;
  const storedText = report.storedText;  // A stored null shows as null, not blank.
  const setHtml = report.setHtml;  // Leaves what a poll did not change alone.
  const app = document.getElementById('app');

  async function getJson(url) {
    const response = await fetch(url, { cache: 'no-store' });
    const body = await response.json();
    if (!response.ok) {
      const error = new Error(body.error || response.statusText);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  let gone = false;  // The page's study or trial was deleted: nothing more is asked.

  function setLive(ok, text) {
    const el = document.getElementById('live');
    if (!el) return;
    el.classList.toggle('stale', !ok);
    el.textContent = text;
  }

  // Runs step() now and then every interval ms after it settles; errors show as "disconnected",
  // retried with a growing delay. A 404 (the study or trial was deleted) ends the polling: the
  // page keeps what it last showed, marked as gone.
  function poll(step, interval) {
    let delay = interval;
    const tick = async () => {
      try {
        await step();
        delay = interval;
        setLive(true, 'live \u00b7 updated ' + new Date().toLocaleTimeString());
      } catch (e) {
        if (e.status === 404) {
          gone = true;
          setLive(false, 'gone: ' + e.message + ' (deleted?); what is shown is its last state');
          document.documentElement.setAttribute('data-hpt-gone', '1');
          return;
        }
        delay = Math.min(delay * 2, 10000);
        setLive(false, 'disconnected (' + e.message + '); retrying');
      }
      setTimeout(tick, delay);
    };
    tick();
  }

  function header(crumbs) {
    return '<header class="bar"><h1><a href="/">hpt dashboard</a></h1>' + crumbs +
      '<span id="live" class="live">connecting\u2026</span></header>';
  }

  function stateCounts(states) {
    return Object.entries(states).filter(([, n]) => n > 0)
      .map(([s, n]) => '<span class="st-' + esc(s) + '">' + esc(s) + ' ' + n + '</span>').join(', ');
  }

  function localTime(iso) {
    return iso ? new Date(iso).toLocaleString() : '';
  }

  // ---- studies list -----------------------------------------------------------------------

  function studiesPage() {
    document.title = 'hpt dashboard';
    app.innerHTML = header('') + '<h2>Studies</h2><div id="studies"></div>';
    poll(async () => {
      const data = await getJson('/api/studies');
      let h = '<table id="studies-table"><thead><tr><th>study</th><th>direction</th><th>trials</th>' +
        '<th>by state</th><th>best value</th><th>last activity</th></tr></thead><tbody>';
      for (const s of data.studies) {
        h += '<tr data-study="' + s.id + '"><td><a href="/studies/' + s.id + '">' + esc(s.name) + '</a></td><td>' +
          esc(directionsText(s)) + '</td><td class="n">' + s.n_trials + '</td><td>' + stateCounts(s.states) +
          '</td><td class="n">' + (s.best ? esc(fmt(s.best.value)) + ' (#' + s.best.number + ')' : '') +
          '</td><td>' + esc(localTime(s.last_activity)) + '</td></tr>';
      }
      if (!data.studies.length) h += '<tr><td colspan="6" class="note">No study in this database yet.</td></tr>';
      setHtml(document.getElementById('studies'), h + '</tbody></table>');
    }, 2 * POLL_MS);
  }

  // ---- study page -------------------------------------------------------------------------

  // "MINIMIZE", or "MINIMIZE, MAXIMIZE" for a multi-objective study.
  function directionsText(study) {
    return (study.directions || [study.direction]).join(', ');
  }

  function studyStats(study) {
    const best = study.best;
    if (study.directions && study.directions.length > 1) {
      return '<span class="stat">trials: <b id="stat-trials">' + study.n_trials + '</b></span>' +
        '<span class="stat">' + stateCounts(study.states) + '</span>' +
        '<span class="stat">' + esc(directionsText(study).toLowerCase()) +
        ' (<a href="#pareto">Pareto front</a>)</span>';
    }
    return '<span class="stat">trials: <b id="stat-trials">' + study.n_trials + '</b></span>' +
      '<span class="stat">' + stateCounts(study.states) + '</span>' +
      '<span class="stat">best value: <b id="stat-best" data-value="' + (best ? best.value : '') + '">' +
      (best ? esc(fmt(best.value)) + '</b> (trial <a href="/studies/' + study.id + '/trials/' + best.number + '">#' +
        best.number + '</a>)' : '\u2013</b>') + '</span>' +
      '<span class="stat">' + esc(study.direction.toLowerCase()) + '</span>';
  }

  function studyPage(id) {
    app.innerHTML = header('<span id="study-name"></span>') +
      '<div class="stats" id="stats"></div>' +
      '<nav><a href="#summary">Summary</a><a href="#model" id="nav-model" hidden>Model</a><a href="#pareto" id="nav-pareto" hidden>Pareto front</a>' +
      '<a href="#history">History</a><a href="#importance">Importance</a>' +
      '<a href="#contour">Contour</a><a href="#slice">Slice</a><a href="#parallel">Parallel</a>' +
      '<a href="#intermediate">Learning curves</a><a href="#edf">EDF</a><a href="#timeline">Timeline</a><a href="#trials">Trials</a></nav>' +
      '<p class="hint">Click a point or line to select its trial (Shift-click adds), Shift-drag to select a ' +
      'region; the wheel zooms a plot, dragging pans, a double click resets.</p>' +
      '<div id="plots"><p class="note">Drawing the plots\u2026</p></div>' +
      '<section id="trials"><h2>Trials</h2><div id="trials-table"></div></section>';
    report.init({ trialHref: (n) => '/studies/' + id + '/trials/' + n });
    let cursor = '';
    let dataRevision = -1;
    let plotRevision = '';  // The data revision the shown plots were drawn for.
    let plotVersion = '';   // The server's drawing they are (a later one may add importances).
    let plotsBusy = false;

    async function refreshPlots() {
      if (plotsBusy || gone) return;
      plotsBusy = true;
      try {
        const p = await getJson('/api/studies/' + id + '/plots?have=' + plotVersion);
        if (p.html !== undefined) {
          report.setPlots(document.getElementById('plots'), p.html);
          document.getElementById('nav-model').hidden = !document.getElementById('model');
          document.getElementById('nav-pareto').hidden = !document.getElementById('pareto');
          plotRevision = String(p.revision);
          plotVersion = String(p.version);
          document.getElementById('plots').dataset.revision = plotRevision;
        }
        if (p.pending || String(p.revision) !== String(dataRevision)) setTimeout(refreshPlots, POLL_MS);
      } catch (e) {
        // Unreachable or gone: the poll says so, and asks again for the plots when it can.
      } finally {
        plotsBusy = false;
      }
    }

    poll(async () => {
      const data = await getJson('/api/studies/' + id + '/trials?since=' + encodeURIComponent(cursor));
      cursor = data.cursor;
      dataRevision = Number(cursor.split('-')[1]);
      document.title = 'hpt: ' + data.study.name;
      document.getElementById('study-name').textContent = data.study.name;
      setHtml(document.getElementById('stats'), studyStats(data.study));
      if (data.full)
        report.replaceRows(data.trials);
      else if (data.trials.length)
        report.upsertRows(data.trials);
      document.documentElement.setAttribute('data-hpt-rows', String(report.rowCount()));
      if (String(dataRevision) !== plotRevision) refreshPlots();
    }, POLL_MS);
  }

  // ---- trial page -------------------------------------------------------------------------

  function keyValueTable(obj) {
    const keys = Object.keys(obj);
    if (!keys.length) return '<p class="hint">none</p>';
    return '<table class="kv">' + keys.map((k) =>
      '<tr><th>' + esc(k) + '</th><td>' + esc(storedText(obj[k])) + '</td></tr>').join('') + '</table>';
  }

  // Shows a running trial's fresh page in el as the reader left the last one: the sections they
  // opened stay open, and the log stays where they scrolled it (at its end, as `tail -f`, unless
  // they scrolled up).
  function showKeepingPlace(el, html) {
    const opened = [...el.querySelectorAll('details')].map((d) => d.open);
    const log = document.getElementById('trial-log');
    const logTop = log ? log.scrollTop : null;
    const logAtEnd = !log || log.scrollTop + log.clientHeight >= log.scrollHeight - 2;
    if (!setHtml(el, html)) return;
    el.querySelectorAll('details').forEach((d, k) => { if (opened[k]) d.open = true; });
    const fresh = document.getElementById('trial-log');
    if (fresh) fresh.scrollTop = logAtEnd ? fresh.scrollHeight : logTop;
  }

  function trialPage(id, number) {
    app.innerHTML = header('<a id="study-link" href="/studies/' + id + '">study</a> <span>trial #' + number + '</span>') +
      '<div id="trial"></div>';
    let finished = false;
    poll(async () => {
      if (finished) return;
      const t = await getJson('/api/studies/' + id + '/trials/' + number);
      finished = t.state !== 'RUNNING' && t.state !== 'WAITING';
      document.title = 'hpt: ' + t.study.name + ' trial #' + t.number;
      document.getElementById('study-link').textContent = t.study.name;
      let h = '<h2 id="trial-title">Trial #' + t.number + ' <span class="st-' + esc(t.state) + '">' +
        esc(t.state) + '</span></h2><table class="kv">' +
        '<tr><th>value</th><td id="trial-value">' + esc(fmt(t.value)) + '</td></tr>' +
        '<tr><th>started</th><td>' + esc(localTime(t.datetime_start)) + '</td></tr>' +
        '<tr><th>completed</th><td>' + esc(localTime(t.datetime_complete)) + '</td></tr>' +
        '<tr><th>duration (s)</th><td>' + esc(fmt(t.duration)) + '</td></tr>';
      if (t.fail_reason !== null) h += '<tr><th>fail reason</th><td class="error">' + esc(fmt(t.fail_reason)) + '</td></tr>';
      h += '</table><h3>Parameters</h3>' + keyValueTable(t.params);
      h += '<h3>Intermediate values</h3>' + (t.plots_html || '');
      if (t.intermediate_values.length) {
        h += '<details><summary>' + t.intermediate_values.length + ' values</summary><table><tr><th>step</th><th>value</th></tr>' +
          t.intermediate_values.map(([s, v]) => '<tr><td class="n">' + s + '</td><td class="n">' + esc(fmt(v)) + '</td></tr>').join('') +
          '</table></details>';
      } else {
        h += '<p class="hint">none reported</p>';
      }
      h += '<h3>User attributes</h3>' + keyValueTable(t.user_attrs);
      if (t.metrics_html) h += '<h3>Model (built-in trainer)</h3>' + t.metrics_html;
      if (t.model_html) h += t.model_html;
      h += '<h3>System attributes</h3>' + keyValueTable(t.system_attrs);
      h += '<h3>Log</h3>' + (t.log_tail !== null
        ? '<p class="hint">' + esc(t.log_path) + ' (last 64 KiB)</p><pre class="log" id="trial-log">' + esc(t.log_tail) + '</pre>'
        : '<p class="hint">' + (t.log_path ? 'cannot read ' + esc(t.log_path) + ' from here' : 'no log recorded') + '</p>');
      showKeepingPlace(document.getElementById('trial'), h);
      document.documentElement.setAttribute('data-hpt-trial', String(t.number));
    }, 2 * POLL_MS);
  }

  // ---- routing ----------------------------------------------------------------------------

  const path = location.pathname.split('/').filter(Boolean);
  if (path[0] === 'studies' && path.length === 2) studyPage(path[1]);
  else if (path[0] === 'studies' && path.length === 4) trialPage(path[1], path[3]);
  else studiesPage();
})();
