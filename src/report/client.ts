/**
 * The gallery page's script, inlined into index.html (the page must work from file:// with
 * nothing beside it but the videos). It reads the JSON data island, lays the items out on
 * the chosen X/Y dimensions, filters by the others, and keeps the videos of a row playing
 * together. Every text from the manifest goes in through `textContent`, never as HTML.
 * On a page of a paged gallery, the view (axes, filters) goes along to the page a pager
 * link leads to, and a filter whose value this page does not have stays set (it shows
 * that none of its tasks matches) rather than being dropped.
 *
 * Plain ES2017 in a string: it is not compiled, so it must not use `${` or backticks.
 */
export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('gallery-data').textContent);
  var dims = {};
  data.dimensions.forEach(function (d) { dims[d.name] = d; });
  var view = { x: data.x, y: data.y, filters: {} };
  var grid = document.getElementById('grid');
  var controls = document.getElementById('filters');
  var shown = document.getElementById('shown');
  var syncBox = document.getElementById('sync');

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function show(v) { return v === '' ? '\u2014' : v; }
  function playSafe(v) {
    var p = v.play();
    if (p && typeof p.catch === 'function') p.catch(function () {});
  }

  // ---- the URL hash keeps the view, so a link shows the same comparison -------------
  function readHash() {
    var h = new URLSearchParams(location.hash.replace(/^#/, ''));
    if (h.has('x')) view.x = dims[h.get('x')] ? h.get('x') : null;
    if (h.has('y')) view.y = dims[h.get('y')] ? h.get('y') : null;
    h.forEach(function (value, name) {
      var d = dims[name.slice(2)];
      // Another page of the same run may have set a value this page has none of: kept.
      if (name.indexOf('f.') === 0 && d && (d.values.indexOf(value) >= 0 || data.paging)) view.filters[d.name] = value;
    });
  }
  function writeHash() {
    var h = new URLSearchParams();
    if (view.x) h.set('x', view.x);
    if (view.y) h.set('y', view.y);
    Object.keys(view.filters).forEach(function (n) {
      if (view.filters[n] !== null) h.set('f.' + n, view.filters[n]);
    });
    history.replaceState(null, '', '#' + h.toString());
    document.querySelectorAll('a[data-page]').forEach(function (a) {
      a.setAttribute('href', a.getAttribute('data-page') + '#' + h.toString());
    });
  }

  // ---- controls ----------------------------------------------------------------------
  function axisSelect(axis) {
    var s = document.getElementById('axis-' + axis);
    s.textContent = '';
    var none = el('option', null, '(none)');
    none.value = '';
    s.appendChild(none);
    data.dimensions.forEach(function (d) {
      var o = el('option', null, d.name + ' (' + d.values.length + ')');
      o.value = d.name;
      s.appendChild(o);
    });
    s.value = view[axis] || '';
    s.onchange = function () {
      view[axis] = s.value || null;
      var other = axis === 'x' ? 'y' : 'x';
      if (view[other] === view[axis]) view[other] = null;
      document.getElementById('axis-' + other).value = view[other] || '';
      if (view[axis]) delete view.filters[view[axis]];
      buildFilters();
      render();
    };
  }

  function buildFilters() {
    controls.textContent = '';
    data.dimensions.forEach(function (d) {
      var current = view.filters[d.name];
      var values = d.values.slice();
      var foreign = current !== undefined && current !== null && values.indexOf(current) < 0;
      if (foreign) values.push(current);
      if (d.name === view.x || d.name === view.y || values.length < 2) return;
      var label = el('label', 'filter');
      label.appendChild(el('span', null, d.name));
      var s = el('select');
      s.setAttribute('data-filter', d.name);
      var all = el('option', null, 'all ' + d.values.length);
      all.value = '-1';
      s.appendChild(all);
      values.forEach(function (v, i) {
        var text = show(v).length > 60 ? show(v).slice(0, 59) + '\u2026' : show(v);
        var o = el('option', null, foreign && i === values.length - 1 ? text + ' (none on this page)' : text);
        o.value = String(i);
        o.title = v;
        s.appendChild(o);
      });
      s.value = current === undefined || current === null ? '-1' : String(values.indexOf(current));
      s.onchange = function () {
        var i = Number(s.value);
        view.filters[d.name] = i < 0 ? null : values[i];
        if (foreign) buildFilters(); // the value of another page goes once another is chosen
        render();
      };
      label.appendChild(s);
      controls.appendChild(label);
    });
  }

  // ---- the grid ----------------------------------------------------------------------
  function matches(it) {
    return Object.keys(view.filters).every(function (n) {
      return view.filters[n] === null || it.dims[n] === view.filters[n];
    });
  }
  function axisValues(name, items) {
    if (!name) return [null];
    return dims[name].values.filter(function (v) {
      return items.some(function (it) { return it.dims[name] === v; });
    });
  }

  function card(it) {
    var c = el('figure', 'item state-' + it.state);
    c.setAttribute('data-key', it.key);
    if (it.file) {
      var v = document.createElement('video');
      v.muted = true;
      v.defaultMuted = true;
      v.loop = true;
      v.playsInline = true;
      v.controls = true;
      v.preload = 'metadata';
      if (it.poster) v.poster = it.poster;
      v.src = it.file;
      c.appendChild(v);
    } else {
      var ph = el('div', 'placeholder');
      ph.appendChild(el('strong', 'state', it.state));
      if (it.note) ph.appendChild(el('span', 'note', it.note));
      c.appendChild(ph);
    }
    var cap = el('figcaption');
    var prompt = el('p', 'prompt', it.prompt);
    prompt.title = 'click to show the whole prompt';
    prompt.onclick = function () { prompt.classList.toggle('open'); };
    cap.appendChild(prompt);
    var labels = Object.keys(it.labels);
    if (labels.length) {
      var chips = el('p', 'labels');
      labels.forEach(function (k) { chips.appendChild(el('span', 'chip', k + ': ' + it.labels[k])); });
      cap.appendChild(chips);
    }
    var params = el('dl', 'params');
    it.params.forEach(function (p) {
      params.appendChild(el('dt', null, p[0]));
      var dd = el('dd');
      if (/^image /.test(p[0]) && /^https?:\/\//i.test(p[1])) {
        var a = el('a', null, p[1]);
        a.href = p[1];
        a.rel = 'noreferrer';
        dd.appendChild(a);
      } else {
        dd.textContent = p[1];
      }
      params.appendChild(dd);
    });
    cap.appendChild(params);
    cap.appendChild(el('p', 'meta', '#' + it.seq + ' \u00b7 ' + it.key.slice(0, 12) + (it.taskId ? ' \u00b7 ' + it.taskId : '') + ' \u00b7 ' + it.source));
    c.appendChild(cap);
    return c;
  }

  function rowButtons(tr) {
    var wrap = el('span', 'rowctl');
    var play = el('button', 'play-row', '\u25b6');
    play.type = 'button';
    play.title = 'play this row together, from the start';
    play.onclick = function () {
      tr.querySelectorAll('video').forEach(function (v) { v.currentTime = 0; playSafe(v); });
    };
    var pause = el('button', 'pause-row', '\u275a\u275a');
    pause.type = 'button';
    pause.title = 'pause this row';
    pause.onclick = function () { tr.querySelectorAll('video').forEach(function (v) { v.pause(); }); };
    wrap.appendChild(play);
    wrap.appendChild(pause);
    return wrap;
  }

  function render() {
    writeHash();
    var items = data.items.filter(matches);
    shown.textContent = 'showing ' + items.length + ' of ' + data.items.length + (data.paging ? ' on this page' : '');
    grid.textContent = '';
    if (!items.length) {
      grid.appendChild(el('p', 'empty', data.paging ? 'No task of this page matches these filters.' : 'No task matches these filters.'));
      return;
    }
    var xs = axisValues(view.x, items);
    var ys = axisValues(view.y, items);
    // Without columns, the cards of a row wrap across the page instead of making one long column.
    var table = el('table', view.x ? 'xy' : 'xy flow');
    var head = el('tr');
    head.appendChild(el('th', 'corner', (view.y || '') + (view.x ? ' \\ ' + view.x : '')));
    xs.forEach(function (x) { head.appendChild(el('th', 'col', x === null ? '' : show(x))); });
    var thead = el('thead');
    thead.appendChild(head);
    table.appendChild(thead);
    var tbody = el('tbody');
    ys.forEach(function (y, r) {
      var tr = el('tr', 'row');
      tr.setAttribute('data-row', String(r));
      var th = el('th', 'rowhead');
      th.appendChild(el('span', 'value', y === null ? '' : show(y)));
      th.appendChild(rowButtons(tr));
      tr.appendChild(th);
      xs.forEach(function (x) {
        var td = el('td', 'cell');
        var cards = el('div', 'cards');
        items.forEach(function (it) {
          if ((x === null || it.dims[view.x] === x) && (y === null || it.dims[view.y] === y)) cards.appendChild(card(it));
        });
        td.appendChild(cards.childNodes.length ? cards : el('p', 'empty', 'no task'));
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    grid.appendChild(table);
  }

  // ---- play/pause kept together across a row -----------------------------------------
  grid.addEventListener('play', function (e) {
    var v = e.target;
    var tr = v.closest && v.closest('tr');
    if (!syncBox.checked || !tr) return;
    tr.querySelectorAll('video').forEach(function (o) {
      if (o !== v && o.paused) {
        o.currentTime = Math.min(v.currentTime, o.duration || v.currentTime);
        playSafe(o);
      }
    });
  }, true);
  grid.addEventListener('pause', function (e) {
    var v = e.target;
    var tr = v.closest && v.closest('tr');
    if (!syncBox.checked || !tr) return;
    tr.querySelectorAll('video').forEach(function (o) { if (o !== v && !o.paused) o.pause(); });
  }, true);
  document.getElementById('play-all').onclick = function () {
    grid.querySelectorAll('video').forEach(function (v) { v.currentTime = 0; playSafe(v); });
  };
  document.getElementById('pause-all').onclick = function () {
    grid.querySelectorAll('video').forEach(function (v) { v.pause(); });
  };

  readHash();
  axisSelect('x');
  axisSelect('y');
  buildFilters();
  render();
})();
`;
