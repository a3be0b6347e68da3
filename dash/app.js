/* dash/app.js - the customs dashboard: a single-page app over the admin
 * JSON API (proxy/px_admin.h; the endpoints and shapes are the contract).
 * Hash routes: #/ (overview), #/repositories, #/images, #/image?repository=
 * &reference=, #/exceptions, #/decisions, #/events.  Lists are paged by the
 * server (?page=&per_page=&q=), so thousands of images stay cheap.
 *
 * Safety: every value from the API reaches the DOM as a text node
 * (textContent); no innerHTML, no eval, no inline handlers, nothing from
 * another origin (the page runs under CSP "default-src 'self'").  Links are
 * built here from encodeURIComponent'ed parts, always "#/...".
 *
 * The bearer token (admin.token_file) is asked for when the API answers
 * 401, kept in sessionStorage (this tab only) and sent as
 * "Authorization: Bearer"; a "#token=..." fragment is taken once and then
 * removed from the address bar and the history.
 * Errors: shown in the page; nothing is retried behind the user's back. */
'use strict';

(function () {
  const TOKEN_KEY = 'customs.admin.token';
  const PER_PAGE = 50;              /* server-side pages of repositories and images */
  const DECISIONS_PER_PAGE = 100;   /* the API allows up to 500 */
  const EVENTS_LIMIT = 100;         /* recent webhook deliveries shown */
  const LOCAL_PAGE_ROWS = 100;      /* client-side pages of an image's findings and packages */
  const SEARCH_DEBOUNCE_MS = 350;   /* typing pause before a search is sent */
  const SOON_DAYS = 14;             /* an exception expiring within this is flagged */
  const SEVERITIES = ['critical', 'high', 'medium', 'low', 'unknown'];
  const VERDICTS = ['allow', 'warn', 'deny', 'unscanned'];

  let renderSeq = 0;   /* a newer navigation makes older answers stale */
  let pendingFocus = null;

  /* ---- DOM helpers: text only ---------------------------------------- */

  /* h('tag', {class, href, ...}, child...): strings and numbers become text
   * nodes; null/undefined/false are skipped; arrays are flattened. */
  function h(tag, attrs) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const k of Object.keys(attrs)) {
        const v = attrs[k];
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'on') for (const ev of Object.keys(v)) e.addEventListener(ev, v[ev]);
        else e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (let i = 2; i < arguments.length; i++) append(e, arguments[i]);
    return e;
  }
  function append(e, c) {
    if (c === undefined || c === null || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { append(e, x); }); return; }
    if (typeof c === 'object' && c.nodeType) { e.appendChild(c); return; }
    e.appendChild(document.createTextNode(String(c)));
  }
  function txt(v) { return v === undefined || v === null || v === '' ? '\u2014' : String(v); }

  /* ---- routes and links ---------------------------------------------- */

  function route() {
    const frag = location.hash.replace(/^#\/?/, '');
    const q = frag.indexOf('?');
    const view = (q < 0 ? frag : frag.slice(0, q)) || 'overview';
    return { view: view, params: new URLSearchParams(q < 0 ? '' : frag.slice(q + 1)) };
  }
  /* "a=1&b=x" of the params that have a value (undefined, null and "" are left out). */
  function query(params) {
    const qs = new URLSearchParams();
    if (params) {
      for (const k of Object.keys(params)) {
        const v = params[k];
        if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
      }
    }
    return qs.toString();
  }
  function link(view, params) {
    const s = query(params);
    return '#/' + view + (s ? '?' + s : '');
  }
  function imageLink(repo, ref) { return link('image', { repository: repo, reference: ref }); }

  /* ---- the token ------------------------------------------------------ */

  function getToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  function setToken(t) {
    try {
      if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: the token lives until reload */ memToken = t; }
    document.getElementById('forget-token').classList.toggle('hidden', !t);
  }
  let memToken = '';
  function token() { return getToken() || memToken; }

  /* "#token=T" (or "token=T" among other fragment parameters): stored,
   * then removed from the address bar without a history entry. */
  function takeTokenFromFragment() {
    const frag = location.hash.replace(/^#/, '');
    const m = /(^|[?&/])token=([^&]*)/.exec(frag);
    if (!m) return;
    let t = '';
    try { t = decodeURIComponent(m[2].replace(/\+/g, ' ')); } catch (e) { t = ''; }
    if (t) setToken(t);
    let rest = frag.slice(0, m.index + (m[1] === '/' ? 1 : 0)) + frag.slice(m.index + m[0].length);
    rest = rest.replace(/[?&]$/, '').replace('?&', '?');
    if (rest === '' || rest === '/') rest = '/';
    history.replaceState(null, '', location.pathname + location.search + '#' + rest);
  }

  /* ---- the API -------------------------------------------------------- */

  function ApiError(status, message) {
    this.status = status;
    this.message = message;
  }

  function api(path, params) {
    const s = query(params);
    const headers = { Accept: 'application/json' };
    const t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    /* relative: the API is on the page's own origin and path */
    return fetch('api/' + path + (s ? '?' + s : ''), { headers: headers, cache: 'no-store', credentials: 'omit' })
      .then(function (r) {
        return r.text().then(function (body) {
          let j = null;
          try { j = JSON.parse(body); } catch (e) { j = null; }
          if (!r.ok) throw new ApiError(r.status, (j && typeof j.error === 'string') ? j.error : (r.statusText || 'error'));
          if (!j || typeof j !== 'object') throw new ApiError(r.status, 'the answer is not a JSON object');
          return j;
        });
      }, function (e) { throw new ApiError(0, 'the admin listener cannot be reached (' + e.message + ')'); });
  }

  /* ---- small widgets -------------------------------------------------- */

  function verdictBadge(v) {
    const name = typeof v === 'string' && v ? v : 'unscanned';
    const known = VERDICTS.indexOf(name) >= 0 ? name : 'other';
    return h('span', { class: 'badge v-' + known, 'data-verdict': name }, name);
  }
  function sevBadge(s) {
    const name = typeof s === 'string' && s ? s.toLowerCase() : 'unknown';
    const known = SEVERITIES.indexOf(name) >= 0 ? name : 'unknown';
    return h('span', { class: 'sev s-' + known }, name);
  }
  function sevCounts(c) {
    c = c || {};
    return h('span', { class: 'counts' }, SEVERITIES.map(function (s) {
      const n = Number(c[s] || 0);
      return h('span', { class: 'count s-' + s + (n ? '' : ' zero'), title: s }, s.charAt(0).toUpperCase() + ' ' + n);
    }));
  }
  function shortDigest(d) {
    if (typeof d !== 'string') return txt(d);
    const i = d.indexOf(':');
    return i > 0 && d.length > i + 13 ? d.slice(0, i + 13) + '\u2026' : d;
  }
  function digestCell(d) { return h('code', { title: d || '' }, shortDigest(d)); }

  /* unix seconds (or ms), or an ISO string; shown in UTC */
  function fmtTime(v) {
    if (v === undefined || v === null || v === '' || v === 0) return '\u2014';
    let d;
    if (typeof v === 'number') d = new Date(v > 1e12 ? v : v * 1000);
    else d = new Date(String(v));
    if (isNaN(d.getTime())) return String(v);
    return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  }
  function timeCell(v) { return h('time', { title: typeof v === 'number' ? String(v) : null }, fmtTime(v)); }

  function table(cols, rows, rowFn, empty) {
    if (!rows || !rows.length) return h('p', { class: 'muted empty' }, empty || 'Nothing to show.');
    return h('div', { class: 'scroll' }, h('table', null,
      h('thead', null, h('tr', null, cols.map(function (c) { return h('th', null, c); }))),
      h('tbody', null, rows.map(function (r) {
        return h('tr', null, rowFn(r).map(function (c) { return h('td', null, c); }));
      }))));
  }

  function kv(pairs) {
    return h('dl', { class: 'kv' }, pairs.filter(Boolean).map(function (p) {
      return [h('dt', null, p[0]), h('dd', null, p[1])];
    }));
  }

  /* Server-side pager for {total, page, per_page}: links to the same view
   * with page changed. */
  function pager(view, params, res) {
    const total = Number(res.total || 0);
    const per = Number(res.per_page || PER_PAGE) || PER_PAGE;
    const page = Number(res.page || 1) || 1;
    const pages = Math.max(1, Math.ceil(total / per));
    function to(p) { const o = Object.assign({}, params, { page: p }); return link(view, o); }
    return h('div', { class: 'pager' },
      page > 1 ? h('a', { href: to(1) }, '\u00ab First') : h('span', { class: 'off' }, '\u00ab First'),
      page > 1 ? h('a', { href: to(page - 1), rel: 'prev' }, '\u2039 Previous') : h('span', { class: 'off' }, '\u2039 Previous'),
      h('span', { class: 'where' }, 'Page ' + page + ' of ' + pages + ' \u00b7 ' + total + ' in all'),
      page < pages ? h('a', { href: to(page + 1), rel: 'next' }, 'Next \u203a') : h('span', { class: 'off' }, 'Next \u203a'),
      page < pages ? h('a', { href: to(pages) }, 'Last \u00bb') : h('span', { class: 'off' }, 'Last \u00bb'));
  }

  /* A search/filter form: submits on Enter and after a pause in typing;
   * the view is re-rendered from the fragment, the input keeps focus. */
  function filterForm(view, params, fields) {
    const form = h('form', { class: 'filters', role: 'search' });
    let timer = null;
    function go() {
      const o = {};
      for (const f of fields) {
        const el = form.elements[f.name];
        if (el && el.value) o[f.name] = el.value;
      }
      for (const k of Object.keys(params)) if (!(k in o) && k !== 'page' && !fields.some(function (f) { return f.name === k; })) o[k] = params[k];
      const next = link(view, o);
      if (document.activeElement && document.activeElement.id) pendingFocus = document.activeElement.id;
      if (location.hash !== next) location.hash = next;
    }
    for (const f of fields) {
      const id = 'f-' + view + '-' + f.name;
      let input;
      if (f.options) {
        input = h('select', { id: id, name: f.name, on: { change: go } },
          h('option', { value: '' }, f.any || 'any'),
          f.options.map(function (o) { return h('option', { value: o, selected: params[f.name] === o }, o); }));
      } else {
        input = h('input', { id: id, name: f.name, type: 'search', placeholder: f.placeholder || '', autocomplete: 'off',
          spellcheck: 'false', on: { input: function () { clearTimeout(timer); timer = setTimeout(go, SEARCH_DEBOUNCE_MS); } } });
        input.value = params[f.name] || '';
      }
      form.appendChild(h('label', { for: id }, f.label));
      form.appendChild(input);
    }
    form.appendChild(h('button', { type: 'submit' }, 'Search'));
    form.addEventListener('submit', function (ev) { ev.preventDefault(); clearTimeout(timer); go(); });
    return form;
  }

  /* A client-side paged, filterable table over rows already loaded (an
   * image's findings or packages can run into thousands). */
  function localTable(cols, rows, rowFn, matchFn, empty) {
    const box = h('div', { class: 'local' });
    if (!rows || !rows.length) { box.appendChild(h('p', { class: 'muted empty' }, empty)); return box; }
    let page = 0, q = '';
    const input = h('input', { type: 'search', placeholder: 'Filter', autocomplete: 'off', spellcheck: 'false' });
    const body = h('div');
    function draw() {
      const shown = q ? rows.filter(function (r) { return matchFn(r, q); }) : rows;
      const pages = Math.max(1, Math.ceil(shown.length / LOCAL_PAGE_ROWS));
      if (page >= pages) page = pages - 1;
      const slice = shown.slice(page * LOCAL_PAGE_ROWS, (page + 1) * LOCAL_PAGE_ROWS);
      body.replaceChildren(table(cols, slice, rowFn, 'No match.'));
      if (pages > 1) {
        body.appendChild(h('div', { class: 'pager' },
          h('button', { type: 'button', class: 'link', disabled: page === 0, on: { click: function () { page--; draw(); } } }, '\u2039 Previous'),
          h('span', { class: 'where' }, 'Page ' + (page + 1) + ' of ' + pages + ' \u00b7 ' + shown.length + ' rows'),
          h('button', { type: 'button', class: 'link', disabled: page >= pages - 1, on: { click: function () { page++; draw(); } } }, 'Next \u203a')));
      }
    }
    input.addEventListener('input', function () { q = input.value.toLowerCase(); page = 0; draw(); });
    if (rows.length > 10) box.appendChild(h('div', { class: 'filters' }, input));
    box.appendChild(body);
    draw();
    return box;
  }
  function has(v, q) { return v !== undefined && v !== null && String(v).toLowerCase().indexOf(q) >= 0; }

  function errorBox(e) {
    return h('div', { class: 'alert' }, h('strong', null, e.status ? 'Error ' + e.status + ': ' : 'Error: '), e.message || String(e));
  }

  /* ---- views ------------------------------------------------------------ */

  /* One import source of the vulnerability data: {name, imported_at,
   * added, updated, unchanged, withdrawn, malformed} (or a plain string). */
  function sourceNode(x) {
    if (typeof x !== 'object' || x === null) return h('li', null, txt(x));
    const counts = ['added', 'updated', 'unchanged', 'withdrawn', 'malformed'].filter(function (k) {
      return typeof x[k] === 'number';
    }).map(function (k) { return x[k] + ' ' + k; }).join(', ');
    return h('li', null, h('code', null, txt(x.name || x.url || x.path)),
      x.imported_at ? [' \u00b7 ', fmtTime(x.imported_at)] : '', counts ? h('div', { class: 'muted small' }, counts) : '');
  }

  function viewOverview() {
    return Promise.all([api('summary'), api('policy').catch(function () { return null; }),
      api('vulndb').catch(function () { return null; })]).then(function (r) {
      const s = r[0], pol = r[1], vdb = r[2];
      const v = s.vulndb || {}, p = s.policy || {};
      setVersion(s.version);
      function card(label, n, href, cls) {
        return h('a', { class: 'card ' + (cls || ''), href: href }, h('span', { class: 'n' }, txt(n)), h('span', { class: 'l' }, label));
      }
      const eco = vdb && vdb.ecosystems && typeof vdb.ecosystems === 'object' ? Object.keys(vdb.ecosystems).sort() : [];
      return [
        h('h1', null, 'Overview'),
        pol && pol.last_error ? h('div', { class: 'alert' }, h('strong', null, 'The last policy reload failed: '), pol.last_error,
          ' (the previous policy stays in force)') : null,
        h('div', { class: 'cards' },
          card('images', s.images, link('images')),
          card('repositories', s.repositories, link('repositories')),
          card('denied', s.denied, link('images', { verdict: 'deny' }), 'v-deny'),
          card('warned', s.warned, link('images', { verdict: 'warn' }), 'v-warn'),
          card('allowed', s.allowed, link('images', { verdict: 'allow' }), 'v-allow'),
          card('unscanned', s.unscanned, link('images', { verdict: 'unscanned' }), 'v-unscanned')),
        h('div', { class: 'cols' },
          h('section', null, h('h2', null, 'Vulnerability data'), kv([
            ['generation', txt(v.generation)], ['last import', fmtTime(v.last_import)], ['records', txt(v.records)],
            vdb && Array.isArray(vdb.sources) && vdb.sources.length ? ['sources', h('ul', { class: 'plain' }, vdb.sources.map(sourceNode))] : null,
            eco.length ? ['ecosystems', h('span', null, eco.map(function (k) {
              return h('span', { class: 'tag' }, k + ': ' + vdb.ecosystems[k]);
            }))] : null])),
          h('section', null, h('h2', null, 'Policy'), kv([
            ['generation', txt(p.generation)], ['mode', txt(p.mode)], ['file', h('code', null, txt(p.path))],
            pol ? ['loaded', fmtTime(pol.loaded_at)] : null,
            pol && Array.isArray(pol.exceptions) ? ['exceptions', h('a', { href: link('exceptions') }, String(pol.exceptions.length))] : null])))
      ];
    });
  }

  function viewRepositories(params) {
    const q = params.get('q') || '', page = params.get('page') || 1;
    return api('repositories', { q: q, page: page, per_page: PER_PAGE }).then(function (r) {
      const p = { q: q };
      return [
        h('h1', null, 'Repositories'),
        filterForm('repositories', p, [{ name: 'q', label: 'Search', placeholder: 'repository name' }]),
        table(['repository', 'images', 'tags'], r.repositories || [], function (x) {
          return [h('a', { href: link('images', { repository: x.name }) }, txt(x.name)), txt(x.images), txt(x.tags)];
        }, q ? 'No repository matches.' : 'No repository yet.'),
        pager('repositories', p, r)
      ];
    });
  }

  function viewImages(params) {
    const p = { repository: params.get('repository') || '', verdict: params.get('verdict') || '', q: params.get('q') || '' };
    return api('images', Object.assign({ page: params.get('page') || 1, per_page: PER_PAGE }, p)).then(function (r) {
      return [
        h('h1', null, p.repository ? ['Images in ', h('code', null, p.repository)] : 'Images'),
        p.repository ? h('p', null, h('a', { href: link('images', { verdict: p.verdict, q: p.q }) }, '\u00d7 all repositories')) : null,
        filterForm('images', p, [
          { name: 'q', label: 'Search', placeholder: 'repository, tag or digest' },
          { name: 'verdict', label: 'Verdict', options: VERDICTS, any: 'any verdict' }]),
        table(['repository', 'tag', 'digest', 'verdict', 'rule', 'findings', 'base', 'pushed'], r.images || [], function (x) {
          const ref = x.tag || x.digest;
          return [
            h('a', { href: link('images', { repository: x.repository }) }, txt(x.repository)),
            h('a', { href: imageLink(x.repository, ref), class: 'image-link' }, x.tag ? x.tag : h('em', null, 'untagged')),
            h('a', { href: imageLink(x.repository, x.digest) }, digestCell(x.digest)),
            verdictBadge(x.verdict), txt(x.rule), sevCounts(x.counts),
            x.stale_base ? h('span', { class: 'badge stale' }, 'stale base') : '',
            timeCell(x.pushed_at)];
        }, 'No image matches.'),
        pager('images', p, r)
      ];
    });
  }

  /* One reason of a verdict (the policy's reasons: {kind, action, rule,
   * finding, package, version, fixed_version, severity, score, path, base,
   * ...}); the fields not shown by name are listed as key: value. */
  const REASON_SHOWN = ['kind', 'action', 'rule', 'finding', 'vulnerability', 'id', 'severity', 'package', 'version',
    'fixed_version', 'fixed', 'score', 'message'];
  function reasonNode(r) {
    if (typeof r !== 'object' || r === null) return h('li', null, txt(r));
    const parts = [];
    const id = r.finding || (typeof r.vulnerability === 'string' ? r.vulnerability : null) || r.id;
    const fixed = r.fixed_version || r.fixed;
    if (r.action) parts.push(verdictBadge(r.action));
    if (r.rule) parts.push(h('span', { class: 'tag' }, 'rule ' + r.rule));
    if (r.kind) parts.push(h('span', { class: 'tag' }, r.kind));
    if (id) parts.push(h('strong', null, id));
    if (r.severity) parts.push(sevBadge(r.severity));
    if (r.score !== undefined && r.score !== null) parts.push(h('span', { class: 'muted' }, 'score ' + r.score));
    if (r.package) {
      parts.push(h('span', null, 'in ', h('code', null, r.package + (r.version ? ' ' + r.version : ''))));
      parts.push(fixed ? h('span', null, 'fixed in ', h('code', { class: 'fixed' }, fixed)) : h('span', { class: 'muted' }, 'no fix yet'));
    }
    if (r.message) parts.push(h('span', null, r.message));
    for (const k of Object.keys(r)) {
      const v = r[k];
      if (REASON_SHOWN.indexOf(k) >= 0 || v === null || v === undefined || typeof v === 'object') continue;
      parts.push(h('span', { class: 'muted' }, k.replace(/_/g, ' ') + ': ', h('span', { class: 'val' }, String(v))));
    }
    if (!parts.length) parts.push(h('code', null, JSON.stringify(r)));
    return h('li', null, parts.map(function (x, i) { return i ? [' ', x] : x; }));
  }

  function sevRank(s) { const i = SEVERITIES.indexOf(String(s || 'unknown').toLowerCase()); return i < 0 ? SEVERITIES.length : i; }

  function lineageSection(l) {
    if (!l || typeof l !== 'object') return h('p', { class: 'muted' }, 'No lineage recorded.');
    const bases = Array.isArray(l.bases) ? l.bases : [];
    const built = Array.isArray(l.built_on_this) ? l.built_on_this : [];
    const hist = Array.isArray(l.history) ? l.history : [];
    return [
      h('h3', null, 'Base images'),
      table(['base', 'digest', 'found by', 'layers', 'state', 'fixes in the new base'], bases, function (b) {
        const name = b.repository ? b.repository + (b.tag ? ':' + b.tag : '') : '';
        return [
          name ? (b.origin === 'local' && b.tag ? h('a', { href: imageLink(b.repository, b.tag) }, name) : name) : h('em', null, 'unknown'),
          digestCell(b.digest), txt(b.how), txt(b.layers),
          b.stale ? h('span', { class: 'badge stale' }, 'stale: superseded ' + txt(b.superseded_days) + ' days ago') : h('span', { class: 'badge v-allow' }, 'current'),
          b.stale ? (b.fixes_known ? txt(b.fixes_total) + ' fixes' + (Array.isArray(b.fixes) && b.fixes.length ? ': ' + b.fixes.slice(0, 10).map(function (f) { return f.id; }).join(', ') : '') : 'not known') : ''];
      }, 'No base image found.'),
      h('h3', null, 'Images built on this one'),
      table(['repository', 'tag', 'digest'], built, function (b) {
        return [txt(b.repository), h('a', { href: imageLink(b.repository, b.tag || b.digest) }, txt(b.tag)), digestCell(b.digest)];
      }, 'None known.'),
      hist.length ? [h('h3', null, 'Tag history'), table(['digest', 'from', 'until', 'images still on it'], hist, function (m) {
        return [digestCell(m.digest), timeCell(m.at), m.until ? timeCell(m.until) : 'now',
          (m.images_on_it || []).map(function (i) { return i.repository + ':' + i.tag; }).join(', ') || '\u2014'];
      })] : null
    ];
  }

  function annotationNode(a) {
    if (typeof a !== 'object' || a === null) return h('li', null, txt(a));
    const ann = a.annotations && typeof a.annotations === 'object' ? a.annotations : null;
    return h('li', null,
      h('strong', null, txt(a.artifactType || a.artifact_type || a.type || a.mediaType || 'annotation')), ' ',
      a.digest ? digestCell(a.digest) : '', a.status ? [' ', h('span', { class: 'tag' }, a.status)] : '',
      a.size !== undefined ? ' ' + a.size + ' bytes' : '',
      ann ? h('ul', null, Object.keys(ann).map(function (k) { return h('li', null, h('code', null, k), ' = ', String(ann[k])); })) : '');
  }

  function viewImage(params) {
    const repo = params.get('repository') || '', ref = params.get('reference') || '';
    if (!repo || !ref) return Promise.reject(new ApiError(400, 'an image page needs ?repository=&reference='));
    return api('image', { repository: repo, reference: ref }).then(function (x) {
      const v = x.verdict || {};
      const findings = (x.findings || []).slice().sort(function (a, b) {
        return sevRank(a.severity) - sevRank(b.severity) || (Number(b.score) || 0) - (Number(a.score) || 0) || String(a.id).localeCompare(String(b.id));
      });
      const reasons = Array.isArray(v.reasons) ? v.reasons : (v.reasons ? [v.reasons] : []);
      return [
        h('p', { class: 'crumbs' }, h('a', { href: link('images', { repository: x.repository || repo }) }, txt(x.repository || repo))),
        h('h1', { class: 'image-title' }, txt(x.repository || repo), h('span', { class: 'ref' }, (String(x.reference || ref).indexOf(':') >= 0 ? '@' : ':') + (x.reference || ref)), ' ', verdictBadge(v.decision)),
        kv([['digest', h('code', null, txt(x.digest))], ['kind', txt(x.kind)], ['findings', sevCounts(x.counts)]]),
        h('section', { class: 'verdict v-' + (VERDICTS.indexOf(v.decision) >= 0 ? v.decision : 'other'), id: 'verdict' },
          h('h2', null, v.decision === 'deny' ? 'Why this image is denied' : 'Verdict'),
          kv([['decision', verdictBadge(v.decision)], ['rule', v.rule ? h('strong', { class: 'rule' }, v.rule) : '\u2014']]),
          v.message ? h('pre', { class: 'message' }, v.message) : null,
          reasons.length ? [h('h3', null, 'Reasons'), h('ul', { class: 'reasons' }, reasons.map(reasonNode))] : null),
        h('section', null, h('h2', null, 'Findings (' + findings.length + ')'),
          localTable(['vulnerability', 'severity', 'score', 'package', 'installed', 'fixed in'], findings, function (f) {
            const al = Array.isArray(f.aliases) && f.aliases.length ? h('div', { class: 'muted small' }, f.aliases.join(', ')) : null;
            return [[h('strong', null, txt(f.id)), al], sevBadge(f.severity), f.score === null || f.score === undefined ? '\u2014' : Number(f.score).toFixed(1),
              txt(f.package), h('code', null, txt(f.version)), f.fixed ? h('code', { class: 'fixed' }, f.fixed) : h('span', { class: 'muted' }, 'no fix')];
          }, function (f, q) { return has(f.id, q) || has(f.package, q) || has(f.severity, q) || (f.aliases || []).some(function (a) { return has(a, q); }); },
          'No findings.')),
        Array.isArray(x.secrets) && x.secrets.length ? h('section', null, h('h2', null, 'Secrets (' + x.secrets.length + ')'),
          table(['path', 'rule'], x.secrets, function (s) { return [h('code', null, txt(s.path)), txt(s.rule)]; })) : null,
        h('section', null, h('h2', null, 'Packages (' + (x.packages || []).length + ')'),
          localTable(['name', 'version', 'type', 'ecosystem', 'purl'], x.packages || [], function (p) {
            return [txt(p.name), h('code', null, txt(p.version)), txt(p.type), txt(p.ecosystem), h('code', { class: 'small' }, txt(p.purl))];
          }, function (p, q) { return has(p.name, q) || has(p.purl, q) || has(p.type, q) || has(p.ecosystem, q); }, 'No packages found.')),
        h('section', null, h('h2', null, 'Layers (' + (x.layers || []).length + ')'),
          table(['#', 'digest', 'status'], (x.layers || []).map(function (l, i) { return Object.assign({ n: i + 1 }, l); }), function (l) {
            return [String(l.n), h('code', null, txt(l.digest)), txt(l.status)];
          }, 'No layers.')),
        h('section', null, h('h2', null, 'Lineage'), lineageSection(x.lineage)),
        Array.isArray(x.annotations) && x.annotations.length ? h('section', null, h('h2', null, 'Annotations in the registry'),
          h('ul', { class: 'annotations' }, x.annotations.map(annotationNode))) : null
      ];
    });
  }

  function viewExceptions() {
    return api('policy').then(function (p) {
      const ex = (p.exceptions || []).slice().sort(function (a, b) {
        return (a.expired === b.expired ? 0 : a.expired ? 1 : -1) || (Number(a.expires_in_days) || 0) - (Number(b.expires_in_days) || 0);
      });
      const rules = Array.isArray(p.rules) ? p.rules : null;
      return [
        h('h1', null, 'Policy and exceptions'),
        p.last_error ? h('div', { class: 'alert' }, h('strong', null, 'The last reload failed: '), p.last_error, ' (the previous policy stays in force)') : null,
        kv([['file', h('code', null, txt(p.path))], ['generation', txt(p.generation)], ['loaded', fmtTime(p.loaded_at)], ['mode', txt(p.mode)],
          ['rules', rules ? rules.map(function (r) { return h('span', { class: 'tag' }, typeof r === 'string' ? r : txt(r.name)); }) : txt(p.rules)]]),
        h('h2', null, 'Exceptions (' + ex.length + ')'),
        table(['vulnerability', 'repositories', 'package', 'expires', 'state', 'reason'], ex, function (e) {
          const d = Number(e.expires_in_days);
          let state;
          if (e.expired) state = h('span', { class: 'badge v-deny' }, 'expired');
          else if (e.expires === null || e.expires === undefined || e.expires === '') state = h('span', { class: 'badge v-warn' }, 'never expires');
          else if (!isNaN(d) && d <= SOON_DAYS) state = h('span', { class: 'badge v-warn' }, 'expires in ' + d + (d === 1 ? ' day' : ' days'));
          else state = h('span', { class: 'badge v-allow' }, isNaN(d) ? 'active' : d + ' days left');
          const repos = Array.isArray(e.repositories) ? e.repositories.join(', ') : e.repositories;
          return [h('strong', null, txt(e.vulnerability)), h('code', null, txt(repos)), txt(e.package), fmtTime(e.expires), state, txt(e.reason)];
        }, 'No exceptions.')
      ];
    });
  }

  function viewDecisions(params) {
    const p = { repository: params.get('repository') || '', verdict: params.get('verdict') || '' };
    const before = params.get('before') || '';
    return api('decisions', Object.assign({ before: before, limit: DECISIONS_PER_PAGE }, p)).then(function (r) {
      const rows = r.decisions || [];
      return [
        h('h1', null, 'Recent decisions'),
        filterForm('decisions', p, [
          { name: 'repository', label: 'Repository', placeholder: 'exact name' },
          { name: 'verdict', label: 'Verdict', options: ['allow', 'warn', 'deny'], any: 'any verdict' }]),
        table(['#', 'at', 'client', 'method', 'image', 'verdict', 'rule', 'user agent'], rows, function (d) {
          const ref = d.reference || d.digest;
          return [txt(d.id), timeCell(d.at), txt(d.client), txt(d.method),
            ref ? h('a', { href: imageLink(d.repository, ref) }, txt(d.repository) + (String(ref).indexOf(':') >= 0 ? '@' + shortDigest(ref) : ':' + ref)) : txt(d.repository),
            verdictBadge(d.verdict), txt(d.rule), h('span', { class: 'small' }, txt(d.user_agent))];
        }, 'No decisions recorded.'),
        h('div', { class: 'pager' },
          before ? h('a', { href: link('decisions', p) }, '\u00ab Newest') : h('span', { class: 'off' }, '\u00ab Newest'),
          h('span', { class: 'where' }, rows.length + ' shown'),
          r.next_before !== null && r.next_before !== undefined ? h('a', { href: link('decisions', Object.assign({ before: r.next_before }, p)), rel: 'next' }, 'Older \u203a')
            : h('span', { class: 'off' }, 'Older \u203a'))
      ];
    });
  }

  function viewEvents() {
    return api('events', { limit: EVENTS_LIMIT }).then(function (r) {
      const rows = r.deliveries || r.events || [];
      const cls = { delivered: 'v-allow', pending: 'v-warn', failed: 'v-deny' };
      return [
        h('h1', null, 'Recent webhook deliveries'),
        table(['#', 'created', 'event', 'event id', 'webhook', 'status', 'tries', 'HTTP', 'last error'], rows, function (d) {
          return [txt(d.id), timeCell(d.created_at), txt(d.type), h('code', null, txt(d.event)), txt(d.webhook),
            h('span', { class: 'badge ' + (cls[d.status] || 'v-other') }, txt(d.status)), txt(d.attempts),
            d.last_status ? String(d.last_status) : '\u2014', txt(d.last_error)];
        }, 'No deliveries recorded.')
      ];
    });
  }

  const VIEWS = {
    overview: viewOverview, repositories: viewRepositories, images: viewImages, image: viewImage,
    exceptions: viewExceptions, policy: viewExceptions, decisions: viewDecisions, events: viewEvents
  };

  /* ---- the token prompt --------------------------------------------------- */

  function tokenPrompt(refused) {
    const input = h('input', { id: 'token-input', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
    const form = h('form', { class: 'token', id: 'token-form' },
      h('h1', null, 'Admin token required'),
      h('p', null, refused ? 'The admin API refused the token. Enter another one.'
        : 'The admin API needs the token from admin.token_file. It is kept for this browser tab only.'),
      h('label', { for: 'token-input' }, 'Token'), input, h('button', { type: 'submit' }, 'Use token'));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      setToken(input.value.trim());
      render();
    });
    pendingFocus = 'token-input';
    return form;
  }

  /* ---- rendering ---------------------------------------------------------- */

  function setVersion(v) { if (v) document.getElementById('version').textContent = 'customs ' + v; }

  function render() {
    const my = ++renderSeq;
    const r = route();
    const main = document.getElementById('main');
    const fn = VIEWS[r.view];
    for (const a of document.querySelectorAll('#nav a')) {
      const v = a.getAttribute('data-view');
      a.classList.toggle('active', v === r.view || (v === 'images' && r.view === 'image') || (v === 'exceptions' && r.view === 'policy'));
    }
    document.body.classList.add('loading');
    const p = fn ? fn(r.params) : Promise.reject(new ApiError(404, 'no such page: ' + r.view));
    return p.then(function (nodes) { return nodes; }, function (e) {
      if (e instanceof ApiError && e.status === 401) return [tokenPrompt(!!token())];
      return [h('h1', null, 'Something went wrong'), errorBox(e)];
    }).then(function (nodes) {
      if (my !== renderSeq) return;   /* the user has moved on */
      document.body.classList.remove('loading');
      main.replaceChildren();
      append(main, nodes);
      main.setAttribute('data-view', r.view);
      document.title = 'Customs \u00b7 ' + r.view;
      if (pendingFocus) {
        const el = document.getElementById(pendingFocus);
        pendingFocus = null;
        if (el) {
          el.focus();
          if (typeof el.setSelectionRange === 'function' && el.type !== 'password') {
            try { el.setSelectionRange(el.value.length, el.value.length); } catch (e) { /* not a text input */ }
          }
        }
      }
    });
  }

  function start() {
    takeTokenFromFragment();
    document.getElementById('forget-token').classList.toggle('hidden', !token());
    document.getElementById('forget-token').addEventListener('click', function () { setToken(''); memToken = ''; render(); });
    window.addEventListener('hashchange', function () { takeTokenFromFragment(); render(); });
    render();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
