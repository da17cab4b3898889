// The page in a real browser: Debian's Chromium, driven by playwright-core, over web/serve.mjs on
// 127.0.0.1. Everything the page shows is compared with what the `turnstile` CLI prints for the
// same input (the CLI is run here), and every request the browser makes is recorded.
//
//   node --test web/test/     (after `npm run build` in web/ and `cargo build --release`)
//
// $TURNSTILE_CLI names the CLI (default target/release/turnstile), $TURNSTILE_CHROMIUM the browser
// (default /usr/bin/chromium). Screenshots go to web/test-output/ (git-ignored).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../serve.mjs';

const WEB = dirname(dirname(fileURLToPath(import.meta.url)));
const ROOT = join(WEB, '..');
const CLI = process.env.TURNSTILE_CLI ?? join(ROOT, 'target', 'release', 'turnstile');
const CHROMIUM = process.env.TURNSTILE_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(WEB, 'test-output');
const AT = '2026-11-22T10:00:00Z';
const LAPTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

let server;
let base;
let context;
let page;
let profile;
const requests = [];
const refused = [];

/** `turnstile ARGS` run from `cwd`: { status, stdout, stderr } as text. */
function cli(args, cwd = ROOT) {
  const done = spawnSync(CLI, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (done.error) throw done.error;
  return done;
}

before(async () => {
  for (const [what, path] of [['the CLI', CLI], ['Chromium', CHROMIUM], ['the built page', join(WEB, 'generated', 'policy', 'turnstile.js')],
    ['the built page', join(WEB, 'generated', 'formats', 'formats.js')]]) {
    assert.ok(existsSync(path), `no ${what} at ${path}`);
  }
  server = await serve({ root: WEB, port: 0 });
  base = `http://127.0.0.1:${server.address().port}/`;
  profile = mkdtempSync(join(tmpdir(), 'turnstile-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: LAPTOP,
    acceptDownloads: true,
  });
  // Every request of the page and its worker: our own files pass, anything else is refused and recorded.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    requests.push(url);
    if (url.startsWith(base)) return route.continue();
    refused.push(url);
    return route.abort('blockedbyclient');
  });
  context.on('request', (r) => requests.push(r.url()));
  page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e));
  await page.goto(base);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 60_000 });
  assert.deepEqual(problems, [], 'no script error while loading');
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await context?.close();
  server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function decisionLines() {
  await page.waitForSelector('#decision-lines', { state: 'attached' });
  return page.$eval('#decision-lines', (pre) => pre.textContent);
}

test('every shipped example decides as `turnstile run` prints, byte for byte', async () => {
  const examples = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.json') && f !== 'org.json').sort();
  assert.ok(examples.length >= 3, `examples: ${examples}`);
  const offered = await page.$$eval('#example option', (options) => options.map((o) => o.value));
  assert.deepEqual(offered, examples, 'every example is offered');
  const rulesPage = readFileSync(join(WEB, 'generated', 'docs', 'rules.html'), 'utf8');
  for (const name of examples) {
    await page.selectOption('#example', name);
    await page.waitForFunction((n) => document.querySelector('caption')?.textContent.endsWith(`examples/${n}`), name);
    const expected = cli(['run', `examples/${name}`]);
    assert.equal(expected.status, 0, expected.stderr);
    assert.equal(await decisionLines(), expected.stdout, `examples/${name}`);
    // The table shows each line: allow or deny, code and rule, the rule linked to its text.
    const rows = await page.$$eval('table.decisions tbody tr', (trs) => trs.map((tr) => ({
      result: tr.querySelector('.badge').textContent,
      code: tr.children[4].textContent,
      rule: tr.children[5].textContent,
      href: tr.children[5].querySelector('a')?.getAttribute('href'),
    })));
    const lines = expected.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, lines.length);
    rows.forEach((row, i) => {
      assert.equal(row.result, lines[i].allow ? '✓ allow' : '✗ deny');
      assert.equal(row.code, lines[i].code);
      assert.equal(row.rule, lines[i].rule);
      const anchor = lines[i].rule.toLowerCase();
      assert.equal(row.href, `generated/docs/rules.html#${anchor}`);
      assert.ok(rulesPage.includes(`<a id="${anchor}"></a>`), `docs/rules.md has an anchor for ${lines[i].rule}`);
    });
  }
  await page.selectOption('#example', examples[0]);
  await page.screenshot({ path: join(SHOTS, 'playground-laptop.png'), fullPage: false });
});

test('a rule link opens its text in docs/rules.md', async () => {
  await page.selectOption('#example', 'licensing.json');
  const href = await page.$eval('table.decisions tbody tr td:nth-child(6) a', (a) => a.href);
  const docs = await context.newPage();
  await docs.goto(href);
  // The anchor (in a paragraph of its own) is followed by the rule's heading.
  const heading = await docs.$eval(`[id="${new URL(href).hash.slice(1)}"]`, (a) => (a.closest('p') ?? a).nextElementSibling.textContent);
  assert.match(heading, /^L\d+ — /);
  await docs.close();
});

test('a broken scenario shows the CLI’s error, with the caret at its place', async () => {
  const text = readFileSync(join(ROOT, 'examples', 'licensing.json'), 'utf8');
  const lines = text.split('\n');
  const target = lines.findLastIndex((l) => /"at": "2026-11-22T10:\d\d:00Z"/.test(l));
  assert.ok(target > 2, 'an event instant to break');
  lines[target] = lines[target].replace(/2026-11-22T(10:\d\d:00Z)/, '2026-11-31T$1');
  const broken = lines.join('\n');
  // The CLI reads the same text under the same name.
  const dir = mkdtempSync(join(tmpdir(), 'turnstile-web-'));
  mkdirSync(join(dir, 'examples'));
  writeFileSync(join(dir, 'examples', 'licensing.json'), broken);
  const expected = cli(['run', 'examples/licensing.json'], dir);
  rmSync(dir, { recursive: true });
  assert.equal(expected.status, 2);
  assert.equal(expected.stdout, '');
  const [, line, column] = /^turnstile: examples\/licensing\.json:(\d+):(\d+): /.exec(expected.stderr);
  assert.equal(Number(line), target + 1, 'the CLI places it on the broken line');

  await page.selectOption('#example', 'licensing.json');
  await page.fill('#scenario', broken);
  await page.click('#run');
  await page.waitForSelector('#scenario-errors pre.cli-error');
  assert.equal(await page.$eval('#scenario-errors pre.cli-error', (pre) => pre.textContent), expected.stderr.trimEnd());
  assert.equal(await page.$$eval('#decision-lines', (l) => l.length), 0, 'no decision is shown');
  // The caret is at the line and character column the CLI names, and the gutter marks the line.
  const caret = await page.$eval('#scenario', (area) => ({ at: area.selectionStart, focused: document.activeElement === area }));
  const before = broken.split('\n').slice(0, Number(line) - 1).join('\n').length + 1;
  assert.deepEqual(caret, { at: before + Number(column) - 1, focused: true });
  assert.deepEqual(await page.$$eval('#gutter .error-line', (s) => s.map((x) => x.textContent.trim())), [line]);
  await page.screenshot({ path: join(SHOTS, 'playground-error-laptop.png') });
  await page.selectOption('#example', 'licensing.json'); // back to a good scenario
  assert.equal(await page.$$eval('#scenario-errors pre', (l) => l.length), 0);
});

/** The page's what-if answer: counts as [outcome, before, after], changed users as rows of text. */
async function answer() {
  await page.waitForSelector('#whatif-area table.counts');
  return {
    counts: await page.$$eval('table.counts tbody tr', (trs) => trs.map((tr) => [
      tr.children[0].textContent, Number(tr.children[1].textContent.replace(/,/g, '')), Number(tr.children[2].textContent.replace(/,/g, '')),
    ])),
    changed: await page.$$eval('table.changed tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent))),
    summary: await page.$eval('#whatif-area .summary', (p) => p.textContent),
  };
}

async function askWhatIf(changes) {
  await page.click('#whatif-reset');
  await page.fill('#at', AT);
  for (const [key, value] of Object.entries(changes)) {
    const id = `#set-${key.replace('.', '\\.')}`;
    if (typeof value === 'boolean') await page.setChecked(id, value);
    else await page.fill(id, String(value));
  }
  await page.$eval('#whatif-area', (area) => area.replaceChildren());
  await page.click('#whatif-run');
  return answer();
}

/** What `turnstile what-if` says for the same question: { counts, changed, listing }. */
function whatIfCli(sets) {
  const dir = mkdtempSync(join(tmpdir(), 'turnstile-web-'));
  const base = ['what-if', '--users', 'examples/users.csv', '--org', 'examples/org.json', ...sets.flatMap((s) => ['--set', s]), '--at', AT];
  const json = cli([...base, '--format', 'json', '--out-users', join(dir, 'after.csv')]);
  const csv = cli([...base, '--format', 'csv']);
  assert.equal(json.status, 0, json.stderr);
  const { summary } = JSON.parse(json.stdout.trimEnd().split('\n').at(-1));
  const counts = Object.keys(summary.before).map((k) => [k, summary.before[k], summary.after[k]]);
  // --format csv: "Id","Full Name","Line","Before Allow","Before Code","Before License","Before Rule","After ...
  const side = (allow, code, license, rule) => `${allow === 'true' && license ? '✓ allow' : '✗ deny'} ${allow === 'true' && license ? license : code} (${rule})`;
  const changed = csv.stdout.trimEnd().split('\n').slice(1).map((line) => JSON.parse(`[${line}]`))
    .map(([id, name, l, ba, bc, bl, br, aa, ac, al, ar]) => [l, id, name, side(ba, bc, bl, br), side(aa, ac, al, ar)]);
  const listing = readFileSync(join(dir, 'after.csv'), 'utf8');
  rmSync(dir, { recursive: true });
  return { counts, changed, listing, command: `turnstile ${base.join(' ')} --format json` };
}

test('a what-if on examples/users.csv gives the figures `turnstile what-if` gives', async () => {
  const questions = [
    { auto_assign: true, auto_free: true },
    { 'licenses.standard': 4, inactive_days: 30, auto_assign: true },
    {},
  ];
  for (const changes of questions) {
    const got = await askWhatIf(changes);
    const sets = await page.$eval('#whatif-command', (c) => c.textContent);
    const expectedSets = Object.entries(changes).map(([k, v]) => `${k}=${v}`);
    const expected = whatIfCli(expectedSets.sort((a, b) => ['auto_assign', 'auto_free', 'licenses.standard', 'licenses.inspections', 'inactive_days'].indexOf(a.split('=')[0])
      - ['auto_assign', 'auto_free', 'licenses.standard', 'licenses.inspections', 'inactive_days'].indexOf(b.split('=')[0])));
    assert.equal(sets, expected.command, 'the page shows the command that asks the same');
    assert.deepEqual(got.counts, expected.counts, JSON.stringify(changes));
    assert.deepEqual(got.changed, expected.changed, JSON.stringify(changes));
    assert.match(got.summary, /^What-if for 9 users of examples\/users\.csv at 2026-11-22T10:00:00Z/);
    // The after listing the page downloads is the CLI's --out-users, byte for byte.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    assert.equal(download.suggestedFilename(), 'users-after.csv');
    assert.equal(readFileSync(await download.path(), 'utf8'), expected.listing, JSON.stringify(changes));
  }
  await askWhatIf({ auto_assign: true, auto_free: true });
  await page.$eval('#what-if', (s) => s.scrollIntoView());
  await page.screenshot({ path: join(SHOTS, 'what-if-laptop.png') });
  // The README's picture (docs/web.png is a copy): the answer alone, at a narrower laptop width.
  await page.setViewportSize({ width: 1000, height: 800 });
  await page.locator('#whatif-area').screenshot({ path: join(SHOTS, 'readme-what-if.png') });
  await page.setViewportSize(LAPTOP);
});

test('a broken users listing shows the CLI’s located errors', async () => {
  const broken = '"Id","Full Name","Email","Standard","Inspections"\n"a","Ana","a@x.pl","Yes",""\n"b","Bo","b@x.pl","","Assigned"\n"a","Ana again","a2@x.pl","",""\n';
  const dir = mkdtempSync(join(tmpdir(), 'turnstile-web-'));
  writeFileSync(join(dir, 'broken.csv'), broken);
  writeFileSync(join(dir, 'org.json'), readFileSync(join(ROOT, 'examples', 'org.json')));
  const expected = cli(['what-if', '--users', 'broken.csv', '--org', 'org.json', '--at', AT], dir);
  rmSync(dir, { recursive: true });
  assert.equal(expected.status, 2);
  await page.setInputFiles('#users-file', { name: 'broken.csv', mimeType: 'text/csv', buffer: Buffer.from(broken) });
  await page.setInputFiles('#org-file', { name: 'org.json', mimeType: 'application/json', buffer: readFileSync(join(ROOT, 'examples', 'org.json')) });
  await page.fill('#at', AT);
  await page.click('#whatif-run');
  await page.waitForSelector('#whatif-errors pre.cli-error');
  assert.equal(await page.$eval('#whatif-errors pre.cli-error', (pre) => pre.textContent), expected.stderr.trimEnd());
  // Back to the shipped files.
  await page.reload();
  await page.waitForSelector('html[data-ready="true"]');
});

test('once loaded, the page works offline', async () => {
  await context.setOffline(true);
  try {
    await page.selectOption('#example', 'calls.json');
    assert.equal(await decisionLines(), cli(['run', 'examples/calls.json']).stdout);
    const got = await askWhatIf({ auto_assign: true, auto_free: true });
    assert.deepEqual(got.counts, whatIfCli(['auto_assign=true', 'auto_free=true']).counts);
  } finally {
    await context.setOffline(false);
  }
});

test('every control has a label, and the page reads at a phone’s width', async () => {
  const unlabelled = await page.$$eval('input, select, textarea, button', (els) => els
    .filter((el) => el.type !== 'hidden' && !el.hidden)
    .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim())))
    .map((el) => el.id || el.outerHTML.slice(0, 60)));
  assert.deepEqual(unlabelled, []);
  // Keyboard: Ctrl+Enter in the editor runs the scenario.
  await page.selectOption('#example', 'accounts.json');
  await page.$eval('#decisions-area', (a) => a.replaceChildren());
  await page.focus('#scenario');
  await page.keyboard.press('Control+Enter');
  assert.equal(await decisionLines(), cli(['run', 'examples/accounts.json']).stdout);

  await page.setViewportSize(PHONE);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  await page.selectOption('#example', 'licensing.json');
  await page.screenshot({ path: join(SHOTS, 'playground-phone.png'), fullPage: false });
  await askWhatIf({ auto_assign: true, auto_free: true });
  await page.$eval('#whatif-area', (s) => s.scrollIntoView());
  await page.screenshot({ path: join(SHOTS, 'what-if-phone.png'), fullPage: false });
  await page.setViewportSize(LAPTOP);
});

test('no request leaves 127.0.0.1: only the page’s own files are fetched', () => {
  assert.ok(requests.length >= 5, `requests recorded: ${requests.length}`);
  const own = (url) => url.startsWith(base) || url.startsWith('blob:') || url.startsWith('data:');
  assert.deepEqual(refused, []);
  assert.deepEqual(requests.filter((u) => !own(u)), []);
  for (const file of ['generated/policy/turnstile.core.wasm', 'generated/formats/formats.core.wasm', 'whatif-worker.mjs']) {
    assert.ok(requests.includes(base + file), `${file} was loaded`);
  }
});
