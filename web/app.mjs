// The page: the playground (on this thread; scenarios are small) and the what-if (in a worker).
// Every decision, line and figure shown comes from the components through turnstile-web.mjs;
// this module only lays them out. Nothing is fetched but the page's own files.

const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text, never HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const status = (text) => { $('status').textContent = text; };
const number = (n) => n.toLocaleString('en');

/** Where a rule's text is: docs/rules.md's anchor, rendered by the build. */
const ruleHref = (rule) => `generated/docs/rules.html#${encodeURIComponent(rule.toLowerCase())}`;
const ruleLink = (rule) => (rule ? h('a', { href: ruleHref(rule), title: `rule ${rule} in docs/rules.md` }, rule) : '');

let logic = null;

// ------------------------------------------------------------------ playground

const editor = { source: 'scenario.json' };

function updateGutter(errorLines = new Set()) {
  const count = $('scenario').value.split('\n').length;
  const gutter = $('gutter');
  gutter.replaceChildren(...Array.from({ length: count }, (_, i) => h('span', { class: errorLines.has(i + 1) ? 'error-line' : null }, `${i + 1}\n`)));
  gutter.scrollTop = $('scenario').scrollTop;
}

/** The UTF-16 offset of a line and character column (both from 1) in `text`. */
function offsetOf(text, line, column) {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  for (let c = 1; c < column && offset < text.length && text[offset] !== '\n'; c++) {
    offset += text.codePointAt(offset) > 0xffff ? 2 : 1;
  }
  return offset;
}

/** Puts the caret at a place in the editor and brings that line into view. */
function goTo({ line, column }) {
  const area = $('scenario');
  const text = area.value;
  const at = offsetOf(text, line, column);
  area.focus();
  area.setSelectionRange(at, Math.min(at + 1, text.length));
  const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 18;
  area.scrollTop = Math.max(0, (line - 1) * lineHeight - area.clientHeight / 2);
  $('gutter').scrollTop = area.scrollTop;
}

function setScenario(text, source) {
  $('scenario').value = text;
  editor.source = source;
  $('scenario-source').textContent = source;
  $('scenario-errors').replaceChildren();
  updateGutter();
}

/**
 * An error exactly as the CLI prints it on standard error (`turnstile: ` before the first line):
 * each line placed in the editor is a button that puts the caret there.
 */
function cliError(lines, places = []) {
  const pre = h('pre', { class: 'cli-error' });
  lines.forEach((line, i) => {
    const text = `${i === 0 ? 'turnstile: ' : ''}${line}`;
    const place = places[i];
    pre.append(place?.line ? h('button', { type: 'button', class: 'link', title: `go to line ${place.line}, column ${place.column}`, onclick: () => goTo(place) }, text) : text);
    if (i + 1 < lines.length) pre.append('\n');
  });
  return pre;
}

const KNOWN = new Set(['event', 'kind', 'user', 'allow', 'code', 'message', 'rule', 'detail', 'effects']);

const show = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

function effectItem(effect) {
  const { kind, ...rest } = effect;
  return h('li', {}, h('b', {}, kind), ...Object.entries(rest).map(([k, v]) => ` ${k}=${show(v)}`));
}

function decisionsTable(lines) {
  const headers = ['#', 'Event', 'User', 'Result', 'Code', 'Rule', 'Message', 'Detail', 'Effects'];
  const rows = lines.map((line) => {
    const d = JSON.parse(line); // the formats component's own rendering of the decision
    const extras = Object.entries(d).filter(([k]) => !KNOWN.has(k));
    const cells = [
      d.event,
      d.kind,
      d.user ?? '',
      h('span', { class: `badge ${d.allow ? 'allow' : 'deny'}` }, d.allow ? '✓ allow' : '✗ deny'),
      h('code', {}, d.code),
      ruleLink(d.rule),
      d.message,
      [d.detail ?? '', ...extras.map(([k, v]) => h('div', { class: 'extra' }, `${k}: ${show(v)}`))],
      d.effects.length ? h('ul', { class: 'effects' }, d.effects.map(effectItem)) : h('span', { class: 'none' }, 'none'),
    ];
    return h('tr', { class: d.allow ? 'allow' : 'deny' }, cells.map((c, i) => h('td', { 'data-label': headers[i] }, c)));
  });
  return h('table', { class: 'decisions' },
    h('caption', {}, `${lines.length} decision${lines.length === 1 ? '' : 's'} for ${editor.source}`),
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows));
}

function runPlayground() {
  const area = $('scenario');
  const errors = $('scenario-errors');
  let result;
  try {
    result = logic.runScenario(area.value, editor.source);
  } catch (e) {
    if (!(e instanceof logic.InputError)) throw e;
    errors.replaceChildren(h('p', {}, 'The scenario can’t be used; nothing was decided:'), cliError(e.lines, e.places));
    updateGutter(new Set(e.places.map((p) => p.line)));
    $('decisions-area').replaceChildren(h('p', { class: 'placeholder' }, 'No decisions: fix the scenario and run it again.'));
    if (e.places[0]?.line) goTo(e.places[0]);
    return;
  }
  errors.replaceChildren();
  updateGutter();
  $('decisions-area').replaceChildren(
    h('div', { class: 'table-frame' }, decisionsTable(result.lines)),
    h('details', {}, h('summary', {}, 'Decision lines, as turnstile run prints them'),
      h('pre', { id: 'decision-lines', class: 'lines' }, result.lines.map((l) => `${l}\n`).join(''))),
  );
}

/** The shipped examples, fetched once at the start: the page works offline after that. */
const examples = new Map();

async function fetchExamples(names) {
  await Promise.all(names.map(async (name) => {
    examples.set(name, await (await fetch(`generated/examples/${encodeURIComponent(name)}`)).text());
  }));
}

function loadExample(name) {
  setScenario(examples.get(name), `examples/${name}`);
}

// -------------------------------------------------------------------- what-if

const whatif = { users: null, usersSource: 'examples/users.csv', orgSource: 'examples/org.json', before: null, next: 1 };

/** The after-side controls, with the organisation field each one sets. */
const controls = () => [...document.querySelectorAll('#changes [data-key]')];

function beforeValue(key) {
  const s = whatif.before;
  return { auto_assign: s.autoAssign, auto_free: s.autoFree, 'licenses.standard': s.licenses.standard, 'licenses.inspections': s.licenses.inspections, inactive_days: s.inactiveDays }[key];
}

const valueOf = (input) => (input.type === 'checkbox' ? input.checked : input.value.trim() === '' ? null : Number(input.value));

/** `--set KEY=VALUE` for each control changed from the organisation as given. */
function sets() {
  if (!whatif.before) return [];
  return controls().flatMap((input) => {
    const value = valueOf(input);
    return value === null || value === beforeValue(input.dataset.key) ? [] : [`${input.dataset.key}=${value}`];
  });
}

function resetControls() {
  for (const input of controls()) {
    const value = whatif.before ? beforeValue(input.dataset.key) : null;
    if (input.type === 'checkbox') input.checked = Boolean(value);
    else input.value = value ?? '';
  }
  updateCommand();
}

function updateCommand() {
  $('whatif-command').textContent = logic
    ? logic.command({ users: whatif.usersSource, org: whatif.orgSource, sets: sets(), at: $('at').value.trim() })
    : '';
}

function readBefore() {
  const errors = $('whatif-errors');
  try {
    whatif.before = logic.readOrg($('org-text').value, whatif.orgSource);
    errors.replaceChildren();
  } catch (e) {
    if (!(e instanceof logic.InputError)) throw e;
    whatif.before = null;
    errors.replaceChildren(cliError(e.lines));
  }
  resetControls();
}

let worker = null;
const pending = new Map();

function ask(message, onProgress) {
  const id = whatif.next++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ ...message, id });
  });
}

function startWorker() {
  worker = new Worker(new URL('./whatif-worker.mjs', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onerror = (e) => reject(new Error(e.message || 'the what-if worker could not start'));
    worker.onmessage = ({ data }) => {
      if (data.type === 'ready') {
        resolve();
        return;
      }
      const waiting = pending.get(data.id);
      if (!waiting) return;
      if (data.type === 'progress') {
        waiting.onProgress?.(data);
        return;
      }
      pending.delete(data.id);
      if (data.type === 'error') waiting.reject(data);
      else waiting.resolve(data);
    };
  });
}

function chart(counts) {
  const max = Math.max(1, ...counts.flatMap((c) => [c.before, c.after]));
  const label = 150;
  const width = 300;
  const bar = 14;
  const row = 2 * bar + 12;
  const height = counts.length * row + 24;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${label + width + 60} ${height}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Outcomes before and after: ${counts.map((c) => `${c.outcome} ${c.before} then ${c.after}`).join(', ')}`);
  const add = (tag, attrs, text) => {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    svg.append(el);
  };
  counts.forEach((c, i) => {
    const y = i * row + 4;
    add('text', { x: label - 8, y: y + bar + 4, 'text-anchor': 'end', class: 'chart-label' }, c.outcome);
    for (const [k, side] of [[0, 'before'], [1, 'after']]) {
      const w = (c[side] / max) * width;
      add('rect', { x: label, y: y + k * bar, width: Math.max(w, 0.5), height: bar - 2, class: `bar ${side}` });
      add('text', { x: label + w + 4, y: y + k * bar + bar - 3, class: 'chart-value' }, number(c[side]));
    }
  });
  add('rect', { x: label, y: height - 14, width: 10, height: 10, class: 'bar before' });
  add('text', { x: label + 14, y: height - 5, class: 'chart-value' }, 'before');
  add('rect', { x: label + 70, y: height - 14, width: 10, height: 10, class: 'bar after' });
  add('text', { x: label + 84, y: height - 5, class: 'chart-value' }, 'after');
  return svg;
}

function renderAnswer(summary, question) {
  const changes = question.sets.length ? question.sets.join(', ') : 'no changes';
  const delta = (c) => (c.after === c.before ? '0' : `${c.after > c.before ? '+' : ''}${number(c.after - c.before)}`);
  const counts = h('table', { class: 'counts' },
    h('caption', {}, 'Outcomes: a licence when allowed, a code when denied'),
    h('thead', {}, h('tr', {}, ['Outcome', 'Before', 'After', 'Change'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, summary.counts.map((c) => h('tr', {},
      h('th', { scope: 'row' }, h('code', {}, c.outcome)), h('td', {}, number(c.before)), h('td', {}, number(c.after)), h('td', {}, delta(c))))));
  const n = summary.changedCount;
  const changed = n === 0 ? h('p', { id: 'changed-title' }, 'No user’s outcome changes.') : h('div', { class: 'changed-users' },
    h('h3', { id: 'changed-title' }, `${number(n)} ${n === 1 ? 'user’s outcome changes' : 'users’ outcomes change'}`),
    summary.changed.length < n ? h('p', { class: 'note' }, `The first ${number(summary.changed.length)} are shown; the after listing has everyone.`) : null,
    h('div', { class: 'table-frame' }, h('table', { class: 'changed', 'aria-labelledby': 'changed-title' },
      h('thead', {}, h('tr', {}, ['Line', 'Id', 'Name', 'Before', 'After'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, summary.changed.map((u) => h('tr', {},
        h('td', { 'data-label': 'Line' }, u.line), h('td', { 'data-label': 'Id' }, h('code', {}, u.id)), h('td', { 'data-label': 'Name' }, u.name),
        h('td', { 'data-label': 'Before' }, outcome(u.before)), h('td', { 'data-label': 'After' }, outcome(u.after))))))));
  const total = summary.timings.find(([phase]) => phase === 'total')?.[1] ?? 0;
  $('whatif-area').replaceChildren(...[
    h('p', { class: 'summary' }, `What-if for ${number(summary.users)} users of ${question.usersSource} at ${summary.at}: before ${question.orgText === null ? 'the default organisation' : question.orgSource}, after with ${changes}.`),
    summary.warnings.length ? h('pre', { class: 'warnings' }, summary.warnings.join('\n')) : null,
    h('div', { class: 'answer' },
      h('div', { class: 'table-frame' }, counts),
      h('figure', { class: 'chart' }, chart(summary.counts), h('figcaption', {}, 'Outcomes before and after'))),
    changed,
    h('p', { class: 'toolbar' },
      h('button', { type: 'button', id: 'download', onclick: download }, 'Download the after listing (CSV)'),
      h('span', { class: 'note' }, `Answered in ${(total / 1000).toFixed(2)} s, in this page.`)),
  ].filter(Boolean));
}

/** `allow standard (L7)` with its rule linked. */
function outcome(text) {
  const m = /^(allow|deny) (\S+) \((\w+)\)$/.exec(text);
  if (!m) return text;
  return h('span', {}, h('span', { class: `badge ${m[1]}` }, m[1] === 'allow' ? '✓ allow' : '✗ deny'), ' ', h('code', {}, m[2]), ' (', ruleLink(m[3]), ')');
}

async function download() {
  const button = $('download');
  button.disabled = true;
  try {
    const { parts } = await ask({ type: 'listing' });
    const url = URL.createObjectURL(new Blob(parts, { type: 'text/csv' }));
    const a = h('a', { href: url, download: 'users-after.csv', hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } finally {
    button.disabled = false;
  }
}

async function runWhatIf() {
  const question = {
    users: whatif.users,
    usersSource: whatif.usersSource,
    orgText: $('org-text').value.trim() === '' ? null : $('org-text').value,
    orgSource: whatif.orgSource,
    sets: sets(),
    at: $('at').value.trim(),
  };
  const button = $('whatif-run');
  const progress = $('whatif-progress');
  button.disabled = true;
  $('whatif-errors').replaceChildren();
  progress.textContent = 'Reading the listing…';
  try {
    const { summary } = await ask({ type: 'run', question }, (p) => {
      progress.textContent = p.phase === 'reading'
        ? `Reading and loading: ${number(p.rows)} users so far (${Math.round((100 * p.done) / Math.max(p.total, 1))}% of the file)`
        : `${p.phase === 'syncing before' ? 'Before' : 'After'}: ${number(p.done)} of ${number(p.total)} users synced`;
    });
    renderAnswer(summary, question);
    progress.textContent = 'Answered.';
  } catch (e) {
    progress.textContent = '';
    const lines = e.lines ?? [String(e.message ?? e)];
    $('whatif-errors').replaceChildren(h('p', {}, 'The what-if can’t be answered:'), cliError(lines));
    $('whatif-area').replaceChildren(h('p', { class: 'placeholder' }, 'No answer: see the message above.'));
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------- start

function nowText() {
  return new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

async function start() {
  try {
    logic = await import('./turnstile-web.mjs');
  } catch (e) {
    status(`The components could not be loaded: ${e.message}`);
    return;
  }
  const index = await (await fetch('generated/examples/index.json')).json();
  const select = $('example');
  select.replaceChildren(...index.scenarios.map((name) => h('option', { value: name }, `examples/${name}`)));
  await fetchExamples(index.scenarios);
  select.addEventListener('change', () => {
    loadExample(select.value);
    runPlayground();
  });
  $('scenario-file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    setScenario(await file.text(), file.name);
    runPlayground();
  });
  $('scenario-form').addEventListener('submit', (e) => {
    e.preventDefault();
    runPlayground();
  });
  const area = $('scenario');
  area.addEventListener('input', () => updateGutter());
  area.addEventListener('scroll', () => { $('gutter').scrollTop = area.scrollTop; });
  area.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      runPlayground();
    }
  });
  loadExample(index.scenarios[0]);
  runPlayground();
  $('run').disabled = false;

  // What-if: the shipped example files until the user opens others.
  whatif.users = await (await fetch(`generated/examples/${index.users}`)).blob();
  $('org-text').value = await (await fetch(`generated/examples/${index.org}`)).text();
  $('at').value = nowText();
  readBefore();
  $('users-file').addEventListener('change', (e) => {
    const file = e.target.files[0];
    if (!file) return;
    whatif.users = file;
    whatif.usersSource = file.name;
    $('users-source').textContent = file.name;
    updateCommand();
  });
  $('org-file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    whatif.orgSource = file.name;
    $('org-source').textContent = file.name;
    $('org-text').value = await file.text();
    readBefore();
  });
  $('org-text').addEventListener('change', readBefore);
  $('at').addEventListener('input', updateCommand);
  for (const input of controls()) input.addEventListener('input', updateCommand);
  $('whatif-reset').addEventListener('click', resetControls);
  $('whatif-form').addEventListener('submit', (e) => {
    e.preventDefault();
    runWhatIf();
  });
  try {
    await startWorker();
    $('whatif-run').disabled = false;
  } catch (e) {
    $('whatif-progress').textContent = `The what-if could not start: ${e.message}`;
  }
  status('Ready: the components are loaded, and nothing you do here leaves this page.');
  document.documentElement.dataset.ready = 'true';
}

start();
