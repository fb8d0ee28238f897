// The interactive part of hpt's study report and live dashboard (embedded into the binary at
// build time; no network, no library).
//
// Plots are inline SVG rendered by the C++ side (reports/src/plots_html.cpp). Each plot keeps
// its marks in <g data-t="n1,n2,...">: the k-th child mark belongs to trial number n_k. This
// script adds, for the static report and the dashboard alike:
//   - a tooltip with the trial's state, value and parameters on hover;
//   - selection: click a mark to select its trial (Shift/Ctrl-click adds or removes), or
//     Shift-drag a rectangle over a plot; the selected trials are highlighted in every plot
//     and in the trials table; Escape or "clear" empties the selection;
//   - zoom: the mouse wheel zooms a plot around the pointer, dragging pans, a double click
//     resets; zoom survives the dashboard replacing the plots with fresh ones;
//   - the trials table: click a header to sort; filters by state, value range, parameter
//     ranges (text match for categorical parameters) and "selected only"; a multi-objective
//     study's table has one column per objective and a "Pareto" column marking the trials of
//     the plots' <section id="pareto" data-front="n1,n2,...">;
//   - the model view (reports/src/model_view.cpp): an embedding point shows its class and
//     image on hover (from the view's <script class="hpt-emb"> data).
// The dashboard drives it through window.HptReport (see the API at the end).
(function () {
  'use strict';

  const MAX_TABLE_ROWS = 500;
  const STATES = ['COMPLETE', 'PRUNED', 'FAIL', 'RUNNING', 'WAITING'];

  const rows = new Map(); // trial number -> {number, state, value, duration, params, attrs[, values]}
  const selected = new Set(); // selected trial numbers
  const views = new Map(); // plot key -> zoomed viewBox
  const table = {
    sortKey: 'number',
    ascending: true,
    states: new Set(STATES),
    valueMin: '',
    valueMax: '',
    paramFilters: new Map(), // name -> {min, max} for numbers, {text} for categories
    onlySelected: false,
    columnsKey: '',
  };
  let options = { trialHref: null };
  let tip = null;

  // ---- text -------------------------------------------------------------------------------

  function esc(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({
      '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
    }[c]));
  }

  function fmt(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') {
      const a = Math.abs(v);
      return (a >= 1e5 || (a < 1e-3 && v !== 0)) ? v.toExponential(3) : String(+v.toPrecision(5));
    }
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }

  // A parameter's or attribute's value as text: a stored None (JSON null) is "null", as the
  // plots label it, not the empty cell of a trial without the parameter or attribute.
  function storedText(v) {
    return v === null ? 'null' : fmt(v);
  }

  // ---- DOM --------------------------------------------------------------------------------

  const shownHtml = new WeakMap(); // element -> the html setHtml last gave it

  // Sets el's content to html unless it already shows it (false then): the dashboard redraws on
  // every poll, and replacing unchanged nodes would drop the hover, a text selection, or a click
  // whose mouseup lands on a new node (a click then never happens).
  function setHtml(el, html) {
    if (shownHtml.get(el) === html) return false;
    el.innerHTML = html;
    shownHtml.set(el, html);
    return true;
  }

  function describe(number) {
    const r = rows.get(number);
    if (!r) return '<b>Trial ' + number + '</b>';
    let s = '<b>Trial ' + r.number + '</b> ' + esc(r.state);
    if (r.value !== null) s += '<br>value: ' + esc(fmt(r.value));
    if (r.values) s += '<br>values: ' + r.values.map((v) => esc(fmt(v))).join(', ');
    if (paretoFront().has(r.number)) s += ' (Pareto front)';
    if (r.duration !== null) s += '<br>duration: ' + esc(fmt(r.duration)) + ' s';
    for (const [name, v] of Object.entries(r.params)) s += '<br>' + esc(name) + ': ' + esc(storedText(v));
    return s;
  }

  // ---- marks ------------------------------------------------------------------------------

  // The trial numbers of a mark group, parsed once per element.
  function groupNumbers(g) {
    if (!g._numbers) {
      const t = g.getAttribute('data-t');
      g._numbers = t ? t.split(',').map(Number) : [];
    }
    return g._numbers;
  }

  // The trial number of a plot mark, or null if el is not one.
  function markTrial(el) {
    const g = el && el.parentNode;
    if (!g || !g.getAttribute || g.getAttribute('data-t') === null) return null;
    const index = Array.prototype.indexOf.call(g.children, el);
    const n = groupNumbers(g)[index];
    return n === undefined ? null : n;
  }

  function applySelection() {
    document.body.classList.toggle('has-sel', selected.size > 0);
    for (const g of document.querySelectorAll('g[data-t]')) {
      const numbers = groupNumbers(g);
      const marks = g.children;
      for (let k = 0; k < marks.length; k++) marks[k].classList.toggle('sel', selected.has(numbers[k]));
    }
    const info = document.getElementById('hpt-selection');
    if (info) {
      info.textContent = selected.size ? selected.size + ' selected' : '';
      info.dataset.count = String(selected.size);
    }
    renderTable();
  }

  function setSelection(numbers, additive) {
    if (!additive) selected.clear();
    for (const n of numbers) selected.add(n);
    applySelection();
  }

  function toggleSelected(n) {
    if (selected.has(n)) selected.delete(n); else selected.add(n);
    applySelection();
  }

  // ---- zoom and brush ---------------------------------------------------------------------

  function plotKey(svg) {
    const section = svg.closest('section');
    const id = section ? section.id : '';
    const all = section ? section.querySelectorAll('svg.plot') : [svg];
    return id + '/' + Array.prototype.indexOf.call(all, svg);
  }

  function svgPoint(svg, e) {
    const p = svg.createSVGPoint();
    p.x = e.clientX;
    p.y = e.clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  }

  function baseBox(svg) {
    if (!svg._base) svg._base = svg.getAttribute('viewBox');
    return svg._base.split(/[\s,]+/).map(Number);
  }

  function setView(svg, box) {
    const key = plotKey(svg);
    if (box) {
      svg.setAttribute('viewBox', box.join(' '));
      views.set(key, box);
    } else {
      svg.setAttribute('viewBox', baseBox(svg).join(' '));
      views.delete(key);
    }
    svg.classList.toggle('zoomed', !!box);
  }

  // Re-applies the zoom of every plot (after the dashboard replaced the plots).
  function restoreViews(root) {
    for (const svg of (root || document).querySelectorAll('svg.plot')) {
      baseBox(svg);
      const box = views.get(plotKey(svg));
      if (box) setView(svg, box);
    }
  }

  function onWheel(e) {
    const svg = e.target.closest && e.target.closest('svg.plot');
    if (!svg || !svg.getAttribute('viewBox')) return;
    e.preventDefault();
    const base = baseBox(svg);
    const box = svg.getAttribute('viewBox').split(/[\s,]+/).map(Number);
    const p = svgPoint(svg, e);
    const factor = e.deltaY < 0 ? 0.8 : 1.25;
    let w = Math.min(base[2], box[2] * factor);
    let h = Math.min(base[3], box[3] * factor);
    if (w >= base[2] && h >= base[3]) {
      setView(svg, null);
      return;
    }
    const x = p.x - (p.x - box[0]) * (w / box[2]);
    const y = p.y - (p.y - box[1]) * (h / box[3]);
    setView(svg, [x, y, w, h]);
  }

  let drag = null; // {svg, start, box, brush, moved}

  function onMouseDown(e) {
    const svg = e.target.closest && e.target.closest('svg.plot');
    if (!svg || e.button !== 0 || !svg.getAttribute('viewBox')) return;
    const start = svgPoint(svg, e);
    drag = { svg, start, box: svg.getAttribute('viewBox').split(/[\s,]+/).map(Number), moved: false };
    if (e.shiftKey) {
      drag.brush = document.createElementNS(svg.namespaceURI, 'rect');
      drag.brush.setAttribute('class', 'brush');
      svg.appendChild(drag.brush);
    }
    e.preventDefault();
  }

  function onMouseMove(e) {
    if (tip && tip.style.display === 'block') {
      tip.style.left = (e.pageX + 14) + 'px';
      tip.style.top = (e.pageY + 14) + 'px';
    }
    if (!drag) return;
    const p = svgPoint(drag.svg, e);
    const dx = p.x - drag.start.x;
    const dy = p.y - drag.start.y;
    if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
    if (drag.brush) {
      drag.brush.setAttribute('x', Math.min(p.x, drag.start.x));
      drag.brush.setAttribute('y', Math.min(p.y, drag.start.y));
      drag.brush.setAttribute('width', Math.abs(dx));
      drag.brush.setAttribute('height', Math.abs(dy));
    } else if (drag.moved && views.has(plotKey(drag.svg))) {
      // Panning moves the view box; the start point keeps its place under the pointer.
      const box = drag.svg.getAttribute('viewBox').split(/[\s,]+/).map(Number);
      setView(drag.svg, [box[0] - dx, box[1] - dy, box[2], box[3]]);
    }
  }

  // The trials whose marks in svg lie inside the rectangle [x0, x1] x [y0, y1].
  function marksInside(svg, x0, y0, x1, y1) {
    const found = [];
    const inside = (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
    for (const g of svg.querySelectorAll('g[data-t]')) {
      const numbers = groupNumbers(g);
      const marks = g.children;
      for (let k = 0; k < marks.length; k++) {
        const m = marks[k];
        let hit = false;
        if (m.tagName === 'circle') {
          hit = inside(+m.getAttribute('cx'), +m.getAttribute('cy'));
        } else if (m.tagName === 'polyline') {
          const pts = (m.getAttribute('points') || '').trim().split(/\s+/);
          hit = pts.some((xy) => { const [x, y] = xy.split(',').map(Number); return inside(x, y); });
        }
        if (hit) found.push(numbers[k]);
      }
    }
    return found;
  }

  function onMouseUp(e) {
    if (!drag) return;
    const d = drag;
    drag = null;
    if (d.brush) {
      const x = +d.brush.getAttribute('x');
      const y = +d.brush.getAttribute('y');
      const w = +d.brush.getAttribute('width');
      const h = +d.brush.getAttribute('height');
      d.brush.remove();
      if (d.moved) setSelection(marksInside(d.svg, x, y, x + w, y + h), e.ctrlKey || e.metaKey);
      if (d.moved) return;
    }
    if (d.moved) return;
    const n = markTrial(e.target);
    if (n === null) return;
    if (e.shiftKey || e.ctrlKey || e.metaKey) {
      toggleSelected(n);
    } else if (selected.size === 1 && selected.has(n)) {
      setSelection([], false);
    } else {
      setSelection([n], false);
    }
  }

  function onDoubleClick(e) {
    const svg = e.target.closest && e.target.closest('svg.plot');
    if (svg) setView(svg, null);
  }

  // ---- model view: embedding points show their image and class -----------------------------

  // {names, thumbs} of the model view holding el (parsed once per view), or null.
  function embeddingData(el) {
    const section = el.closest && el.closest('section');
    const blob = section && section.querySelector('script.hpt-emb');
    if (!blob) return null;
    if (!blob._data) blob._data = JSON.parse(blob.textContent);
    return blob._data;
  }

  function embeddingPoint(el) {
    return el && el.tagName === 'circle' && el.parentNode && el.parentNode.classList &&
      el.parentNode.classList.contains('emb') ? el : null;
  }

  function onEmbeddingOver(point) {
    const data = embeddingData(point);
    if (!data || !tip) return;
    const label = point.getAttribute('data-c');
    const k = Number(point.getAttribute('data-k'));
    let h = '<b>' + esc(data.names[label] !== undefined ? data.names[label] : label) + '</b>';
    if (k >= 0 && data.thumbs[k]) h += '<br><img class="thumb big" alt="" src="data:image/png;base64,' + esc(data.thumbs[k]) + '">';
    tip.innerHTML = h;
    tip.style.display = 'block';
    point.classList.add('hl');
  }

  function onMouseOver(e) {
    const point = embeddingPoint(e.target);
    if (point) {
      onEmbeddingOver(point);
      return;
    }
    const n = markTrial(e.target);
    if (n === null || !tip) return;
    tip.innerHTML = describe(n);
    tip.style.display = 'block';
    e.target.classList.add('hl');
  }

  function onMouseOut(e) {
    if (markTrial(e.target) === null && !embeddingPoint(e.target)) return;
    e.target.classList.remove('hl');
    if (tip) tip.style.display = 'none';
  }

  // ---- trials table -----------------------------------------------------------------------

  // The trial numbers on the Pareto front of the plots shown (empty for one objective).
  function paretoFront() {
    const el = document.querySelector('#pareto[data-front]');
    const text = el ? el.getAttribute('data-front') : '';
    if (!el || el._frontText !== text) {
      paretoFront.cache = new Set(text ? text.split(',').map(Number) : []);
      if (el) el._frontText = text;
    }
    return paretoFront.cache;
  }

  function columnNames() {
    const params = new Set();
    const attrs = new Set();
    let objectives = 0;
    for (const r of rows.values()) {
      for (const k of Object.keys(r.params)) params.add(k);
      for (const k of Object.keys(r.attrs)) attrs.add(k);
      if (r.values) objectives = Math.max(objectives, r.values.length);
    }
    return { params: [...params].sort(), attrs: [...attrs].sort(), objectives };
  }

  // A row's own value of a parameter or attribute: names are a study's ("__proto__",
  // "constructor"), never the prototype's.
  function own(obj, name) {
    return obj && Object.prototype.hasOwnProperty.call(obj, name) ? obj[name] : undefined;
  }

  function isNumericParam(name) {
    for (const r of rows.values()) {
      const v = own(r.params, name);
      if (v !== undefined && v !== null && typeof v !== 'number') return false;
    }
    return true;
  }

  function cellValue(r, key) {
    if (key.startsWith('p:')) return own(r.params, key.slice(2));
    if (key.startsWith('v:')) return r.values ? r.values[Number(key.slice(2))] : null;
    if (key === 'pareto') return paretoFront().has(r.number) ? 1 : null;
    if (key.startsWith('a:')) return own(r.attrs, key.slice(2));
    return r[key];
  }

  function compare(a, b) {
    let x = cellValue(a, table.sortKey);
    let y = cellValue(b, table.sortKey);
    const missingX = x === null || x === undefined;
    const missingY = y === null || y === undefined;
    if (missingX || missingY) return missingX === missingY ? a.number - b.number : (missingX ? 1 : -1);
    if (typeof x !== typeof y || typeof x === 'object') {
      x = JSON.stringify(x);
      y = JSON.stringify(y);
    }
    const d = x < y ? -1 : x > y ? 1 : a.number - b.number;
    return table.ascending ? d : -d;
  }

  function numberOrNull(text) {
    if (text === '' || text === undefined) return null;
    const v = Number(text);
    return Number.isFinite(v) ? v : null;
  }

  function passes(r) {
    if (!table.states.has(r.state)) return false;
    if (table.onlySelected && !selected.has(r.number)) return false;
    const lo = numberOrNull(table.valueMin);
    const hi = numberOrNull(table.valueMax);
    if ((lo !== null || hi !== null) && (r.value === null || r.value === undefined)) return false;
    if (lo !== null && r.value < lo) return false;
    if (hi !== null && r.value > hi) return false;
    for (const [name, f] of table.paramFilters) {
      const v = own(r.params, name);
      if (f.text !== undefined && f.text !== '') {
        if (v === undefined || !fmt(v).toLowerCase().includes(f.text.toLowerCase())) return false;
      }
      const pmin = numberOrNull(f.min);
      const pmax = numberOrNull(f.max);
      if (pmin !== null || pmax !== null) {
        if (typeof v !== 'number') return false;
        if (pmin !== null && v < pmin) return false;
        if (pmax !== null && v > pmax) return false;
      }
    }
    return true;
  }

  // Builds the filter controls when the set of columns changes (keeping what was typed).
  function renderControls(root, cols) {
    const key = JSON.stringify(cols);
    if (table.columnsKey === key && root.querySelector('.filters')) return;
    table.columnsKey = key;
    let h = '<div class="filters"><fieldset><legend>state</legend>';
    for (const s of STATES) {
      h += '<label><input type="checkbox" data-state="' + s + '"' + (table.states.has(s) ? ' checked' : '') +
        '> ' + s + '</label> ';
    }
    h += '</fieldset>';
    if (!cols.objectives) {
      h += '<fieldset><legend>value</legend>' +
        '<input type="number" step="any" data-f="valueMin" placeholder="min" value="' + esc(table.valueMin) + '">' +
        ' \u2013 <input type="number" step="any" data-f="valueMax" placeholder="max" value="' + esc(table.valueMax) + '">' +
        '</fieldset>';
    }
    for (const name of cols.params) {
      const f = table.paramFilters.get(name) || {};
      h += '<fieldset><legend>' + esc(name) + '</legend>';
      if (isNumericParam(name)) {
        h += '<input type="number" step="any" data-p="' + esc(name) + '" data-b="min" placeholder="min" value="' +
          esc(f.min || '') + '"> \u2013 <input type="number" step="any" data-p="' + esc(name) +
          '" data-b="max" placeholder="max" value="' + esc(f.max || '') + '">';
      } else {
        h += '<input type="text" data-p="' + esc(name) + '" data-b="text" placeholder="contains" value="' +
          esc(f.text || '') + '">';
      }
      h += '</fieldset>';
    }
    h += '<label><input type="checkbox" data-f="onlySelected"' + (table.onlySelected ? ' checked' : '') +
      '> selected only</label> <button type="button" data-clear="1">clear selection</button>' +
      ' <span id="hpt-selection" class="hint"></span></div>' +
      '<p class="hint" id="hpt-table-count"></p><div class="tablewrap"><table><thead id="trials-head"></thead>' +
      '<tbody id="trials-body"></tbody></table></div>';
    root.innerHTML = h;
  }

  function onTableInput(e) {
    const el = e.target;
    if (el.dataset.state) {
      if (el.checked) table.states.add(el.dataset.state); else table.states.delete(el.dataset.state);
    } else if (el.dataset.f === 'onlySelected') {
      table.onlySelected = el.checked;
    } else if (el.dataset.f) {
      table[el.dataset.f] = el.value;
    } else if (el.dataset.p) {
      if (!table.paramFilters.has(el.dataset.p)) table.paramFilters.set(el.dataset.p, {});
      table.paramFilters.get(el.dataset.p)[el.dataset.b] = el.value;
    } else {
      return;
    }
    renderTable();
  }

  function onTableClick(e) {
    if (e.target.dataset.clear) {
      setSelection([], false);
      return;
    }
    const th = e.target.closest('th[data-k]');
    if (th) {
      const k = th.dataset.k;
      if (k === table.sortKey) table.ascending = !table.ascending; else { table.sortKey = k; table.ascending = true; }
      renderTable();
      return;
    }
    const tr = e.target.closest('tr[data-n]');
    if (tr && e.target.tagName !== 'A') toggleSelected(Number(tr.dataset.n));
  }

  function renderTable() {
    const root = document.getElementById('trials-table');
    if (!root) return;
    const cols = columnNames();
    renderControls(root, cols);
    const objectives = [...Array(cols.objectives).keys()];
    const valueKeys = cols.objectives ? objectives.map((k) => 'v:' + k).concat(['pareto']) : ['value'];
    const valueTitles = cols.objectives ? objectives.map((k) => 'objective ' + k).concat(['Pareto']) : ['value'];
    const keys = ['number', 'state'].concat(valueKeys, ['duration'],
      cols.params.map((p) => 'p:' + p), cols.attrs.map((a) => 'a:' + a));
    const titles = ['#', 'state'].concat(valueTitles, ['duration (s)'], cols.params, cols.attrs);
    let head = '<tr>';
    keys.forEach((k, i) => {
      const arrow = k === table.sortKey ? (table.ascending ? ' \u25b2' : ' \u25bc') : '';
      head += '<th data-k="' + esc(k) + '">' + esc(titles[i]) + arrow + '</th>';
    });
    setHtml(document.getElementById('trials-head'), head + '</tr>');
    const shown = [...rows.values()].filter(passes).sort(compare);
    const out = [];
    for (const r of shown.slice(0, MAX_TABLE_ROWS)) {
      const number = options.trialHref
        ? '<a href="' + esc(options.trialHref(r.number)) + '">' + r.number + '</a>' : String(r.number);
      out.push(selected.has(r.number) ? '<tr class="sel" data-n="' + r.number + '">' : '<tr data-n="' + r.number + '">');
      out.push('<td class="n">' + number + '</td><td class="st-' + esc(r.state) + '">' + esc(r.state) + '</td>');
      for (let c = 2; c < keys.length; c++) {
        const v = cellValue(r, keys[c]);
        if (keys[c] === 'pareto') out.push(v ? '<td class="pareto" title="on the Pareto front">\u2605</td>' : '<td></td>');
        else out.push('<td' + (typeof v === 'number' ? ' class="n"' : '') + '>' + esc(keys[c].startsWith('p:') ? storedText(v) : fmt(v)) + '</td>');
      }
      out.push('</tr>');
    }
    setHtml(document.getElementById('trials-body'), out.join(''));
    document.getElementById('hpt-table-count').textContent = shown.length > MAX_TABLE_ROWS
      ? 'Showing the first ' + MAX_TABLE_ROWS + ' of ' + shown.length + ' matching trials (' + rows.size + ' in all).'
      : shown.length + ' of ' + rows.size + ' trials. Click a header to sort, a row to select.';
  }

  // ---- setup and API ----------------------------------------------------------------------

  function start() {
    tip = document.getElementById('tip');
    document.addEventListener('mouseover', onMouseOver);
    document.addEventListener('mouseout', onMouseOut);
    document.addEventListener('mousemove', onMouseMove);
    document.addEventListener('mousedown', onMouseDown);
    document.addEventListener('mouseup', onMouseUp);
    document.addEventListener('dblclick', onDoubleClick);
    document.addEventListener('wheel', onWheel, { passive: false });
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && selected.size) setSelection([], false); });
    const tableRoot = document.getElementById('trials-table');
    if (tableRoot) {
      tableRoot.addEventListener('input', onTableInput);
      tableRoot.addEventListener('click', onTableClick);
    }
    const blob = document.getElementById('hpt-data');
    if (blob) {
      upsertRows(JSON.parse(blob.textContent).rows);
      document.documentElement.setAttribute('data-hpt-ready', String(rows.size));
    }
  }

  // Adds or replaces trials (objects as trial_row_json writes them) and redraws the table.
  function upsertRows(list) {
    // "Infinity", "-Infinity", "NaN" (page_number: JSON has no such numbers) back to numbers;
    // NaN, which sorts nowhere, as no value.
    const number = (v) => {
      const n = typeof v === 'string' ? Number(v) : v;
      return Number.isNaN(n) ? null : n;
    };
    for (const r of list) {
      r.value = number(r.value);
      if (r.values) r.values = r.values.map(number);
      rows.set(r.number, r);
    }
    renderTable();
  }

  // The study's trials are list, all of them (a full answer): rows of trials gone are dropped.
  function replaceRows(list) {
    rows.clear();
    upsertRows(list);
  }

  // Replaces container's plots with html, keeping each plot's zoom and the selection.
  function setPlots(container, html) {
    container.innerHTML = html;
    restoreViews(container);
    applySelection(); // Redraws the table too: the Pareto column follows the new front.
  }

  window.HptReport = {
    init(opts) {
      options = Object.assign(options, opts || {});
    },
    upsertRows,
    replaceRows,
    setPlots,
    rowCount: () => rows.size,
    rows: () => [...rows.values()],
    selection: () => [...selected],
    select: (numbers) => setSelection(numbers, false),
    format: fmt,
    storedText,
    escape: esc,
    setHtml,
  };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
