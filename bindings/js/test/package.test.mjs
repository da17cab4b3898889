// `npm pack`: the tarball installs into a fresh directory and works there with nothing else: it
// imports, runs a scenario giving the CLI's bytes, runs as a command, and type-checks with its
// declarations.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { cli, JS, ROOT, runIn } from './support.mjs';

let dir;
let app;
let packed;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'turnstile-npm-'));
  // --ignore-scripts: the package as built (`npm run build`), nothing rebuilt while other tests read it.
  [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
    { cwd: JS, encoding: 'utf8' }));
  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', join(dir, packed.filename)],
    { cwd: app, stdio: ['ignore', 'ignore', 'inherit'] });
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('the tarball holds the module, its types, the command and the two transpiled components, nothing else', () => {
  const files = packed.files.map((f) => f.path).sort();
  for (const file of ['package.json', 'turnstile.mjs', 'turnstile.d.ts', 'cli.mjs',
    'generated/policy/turnstile.js', 'generated/policy/turnstile.core.wasm', 'generated/policy/turnstile.d.ts',
    'generated/policy/interfaces/turnstile-policy-types.d.ts', 'generated/policy/interfaces/turnstile-policy-engine.d.ts',
    'generated/formats/formats.js', 'generated/formats/formats.core.wasm', 'generated/formats/formats.d.ts',
    'generated/formats/interfaces/turnstile-policy-types.d.ts', 'generated/formats/interfaces/turnstile-policy-scenario.d.ts',
    'generated/formats/interfaces/turnstile-policy-listing.d.ts']) {
    assert.ok(files.includes(file), `${file} not in the tarball: ${files.join(', ')}`);
  }
  assert.deepEqual(files.filter((f) => /^(test|node_modules)\/|^(build|bench|example)\.mjs$/.test(f)), []);
  assert.equal(packed.name, 'turnstile-policy');
});

test('installed, it imports and runs a scenario as the CLI does', () => {
  writeFileSync(join(app, 'main.mjs'), `
import { readFileSync } from 'node:fs';
import { run } from 'turnstile-policy';
const [file] = process.argv.slice(2);
process.stdout.write(run(readFileSync(file, 'utf8'), file).map((line) => line + '\\n').join(''));
`);
  const got = runIn(ROOT, process.execPath, [join(app, 'main.mjs'), 'examples/licensing.json']);
  const want = cli(['run', 'examples/licensing.json']);
  assert.equal(got.stderr.toString(), '');
  assert.ok(got.stdout.equals(want.stdout), 'stdout differs from turnstile run');
  assert.ok(!existsSync(join(app, 'node_modules', '@bytecodealliance')), 'nothing else installed');
});

test('installed, its command is the CLI', () => {
  const bin = join(app, 'node_modules', '.bin', 'turnstile-policy');
  for (const args of [['examples/calls.json'], ['no/such.json']]) {
    const [got, want] = [runIn(ROOT, bin, args), cli(['run', ...args])];
    assert.deepEqual([got.status, got.stdout.toString(), got.stderr.toString()],
      [want.status, want.stdout.toString(), want.stderr.toString()], args.join(' '));
  }
});

test('installed, its declarations type-check a program that uses them', (t) => {
  const tsc = join(JS, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    t.skip('no TypeScript in bindings/js/node_modules (it comes with jco)');
    return;
  }
  writeFileSync(join(app, 'check.ts'), `
import { decisionLine, engine, instant, listing, run, scenario, TurnstileError } from 'turnstile-policy';
import type * as turnstile from 'turnstile-policy';

const settings: turnstile.engine.Settings = engine.defaultSettings();
settings.autoAssign = true;
// @ts-expect-error: a misspelt field is a type error
settings.autoAsign = true;
const state: turnstile.engine.OrgState = { settings, users: [engine.newUser('ana')], groups: [], sessions: [] };
const org: turnstile.engine.Org = engine.Org.load(state);
const event: turnstile.engine.Event = { at: instant('2026-11-22T10:00:00Z'), kind: { tag: 'sync', val: { user: 'ana', channel: 'mobile' } } };
const code: turnstile.types.Code = org.step(event).code;
// @ts-expect-error: not a code
const wrong: turnstile.types.Code = 'LICENSE_NOT_FOUND';
// The formats component's values are the policy component's types.
const parsed: turnstile.types.Scenario = scenario.parse('{}', 'empty.json');
const again: turnstile.engine.Org = engine.Org.load(parsed.state);
const reader: turnstile.listing.Reader = new listing.Reader('users.csv');
const page: turnstile.types.Population | undefined = reader.takePage(1);
const at: bigint = listing.parseInstant('2026-11-22T10:00:00Z');
// @ts-expect-error: an instant is a BigInt
const notAt: number = listing.parseInstant('2026-11-22T10:00:00Z');
const counts: turnstile.listing.Count[] = listing.compare([], []).counts;
const line: string = decisionLine(0, event, org.decide(event));
const lines: string[] = run('{}', 'empty.json');
try { run('[]'); } catch (e) { if (e instanceof TurnstileError) { const l: string[] = e.lines; void l; } }
void code; void wrong; void line; void lines; void again; void page; void at; void notAt; void counts;
`);
  const result = runIn(app, process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext',
    '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,esnext.disposable', 'check.ts']);
  assert.equal(result.status, 0, `tsc: ${result.stdout}${result.stderr}`);
});
