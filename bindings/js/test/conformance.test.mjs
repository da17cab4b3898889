// Every scenario replayed through the component from JavaScript, compared with the Rust CLI.
//
// For each tests/conformance/NAME.json and examples/*.json, `run` (the component reads the scenario
// and writes each line) must give exactly the bytes `turnstile run FILE` prints; each vector's lines
// must also equal NAME.expected.jsonl as data, field by field (a failure names the vector, the event
// and the first differing field). A scenario that can't be read must give the CLI's located error
// lines, and `node cli.mjs` the CLI's exact output and exit status.
//
// Run (after `npm run build`): cd bindings/js && node --test test/
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { run, TurnstileError } from 'turnstile-policy';
import { cli, nodeCli, ROOT, scenarios, VECTORS } from './support.mjs';

const show = (v) => (v === undefined ? 'nothing' : JSON.stringify(v));
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The first difference between two JSON values as `path: got X, expected Y`, or null.
 * Objects: the expected keys in order, then keys only `got` has. Lists: each element in
 * order, then the length.
 */
export function firstDifference(path, got, want) {
  if (isObject(got) && isObject(want)) {
    const keys = [...Object.keys(want), ...Object.keys(got).filter((k) => !Object.hasOwn(want, k))];
    for (const key of keys) {
      const [a, b] = [got[key], want[key]];
      if (a === undefined || b === undefined) return `${path}.${key}: got ${show(a)}, expected ${show(b)}`;
      const diff = firstDifference(`${path}.${key}`, a, b);
      if (diff) return diff;
    }
    return null;
  }
  if (Array.isArray(got) && Array.isArray(want)) {
    for (let i = 0; i < Math.min(got.length, want.length); i++) {
      const diff = firstDifference(`${path}[${i}]`, got[i], want[i]);
      if (diff) return diff;
    }
    return got.length === want.length ? null : `${path}: got ${got.length} items, expected ${want.length}`;
  }
  // JSON equality: true is not 1, and 1 is not "1".
  return got === want ? null : `${path || '.'}: got ${show(got)}, expected ${show(want)}`;
}

const text = (file) => readFileSync(join(ROOT, file), 'utf8');

test('every scenario prints the CLI\'s bytes', () => {
  const failures = [];
  const found = scenarios();
  for (const file of found) {
    const want = cli(['run', file]);
    assert.equal(want.status, 0, `turnstile run ${file}: ${want.stderr}`);
    let got;
    try {
      got = Buffer.from(run(text(file), file).map((line) => `${line}\n`).join(''));
    } catch (e) {
      failures.push(`${file}: ${e.constructor.name}: ${e.message}`);
      continue;
    }
    if (!got.equals(want.stdout)) {
      const [a, b] = [got.toString().split('\n'), want.stdout.toString().split('\n')];
      failures.push(`${file}: differs from \`turnstile run\` at line ${a.findIndex((line, i) => line !== b[i])}`);
    }
  }
  if (failures.length) assert.fail(`${failures.length} of ${found.length} scenarios differ:\n${failures.join('\n')}`);
});

test('every vector gives the expected decisions', () => {
  const failures = [];
  const vectors = scenarios().filter((f) => f.startsWith('tests/'));
  assert.ok(vectors.length > 0, `no vectors in ${VECTORS}`);
  for (const file of vectors) {
    const expected = join(ROOT, file.replace(/\.json$/, '.expected.jsonl'));
    if (!existsSync(expected)) {
      failures.push(`${file}: no .expected.jsonl beside it`);
      continue;
    }
    const want = readFileSync(expected, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    const got = run(text(file), file).map((l) => JSON.parse(l));
    let diff = null;
    for (let i = 0; i < Math.min(got.length, want.length) && !diff; i++) {
      const d = firstDifference('', got[i], want[i]);
      if (d) diff = `event ${i}: ${d}`;
    }
    if (!diff && got.length !== want.length) diff = `${got.length} decisions, expected ${want.length}`;
    if (diff) failures.push(`${file} ${diff}`);
  }
  if (failures.length) assert.fail(`${failures.length} of ${vectors.length} vectors differ:\n${failures.join('\n')}`);
});

test('the comparison is strict and says where', () => {
  const line = { event: 0, kind: 'sync', allow: true, code: 'OK', rule: 'L4',
    effects: [{ kind: 'touch', user: 'u', at: '2026-11-22T10:00:00Z' }] };
  const copy = () => JSON.parse(JSON.stringify(line));
  assert.equal(firstDifference('', copy(), line), null);
  const got = copy();
  got.effects[0].at = '2026-11-22T10:00:01Z';
  got.rule = 'L5';
  assert.equal(firstDifference('', got, line), '.rule: got "L5", expected "L4"');
  got.rule = 'L4';
  assert.equal(firstDifference('', got, line), '.effects[0].at: got "2026-11-22T10:00:01Z", expected "2026-11-22T10:00:00Z"');
  assert.equal(firstDifference('', { ...line, detail: 'why' }, line), '.detail: got "why", expected nothing');
  const { code, ...noCode } = line;
  assert.equal(firstDifference('', noCode, line), '.code: got nothing, expected "OK"');
  assert.equal(firstDifference('', { ...line, effects: [...line.effects, { kind: 'touch' }] }, line), '.effects: got 2 items, expected 1');
  assert.equal(firstDifference('', { ...line, allow: 1 }, line), '.allow: got 1, expected true');
});

// Scenarios that can't be read: syntax, format, instants, references, states that don't load.
export const BAD = {
  'syntax.json': '{"users": [{"id": "ana"},]}',
  'unknown_field.json': '{"org": {"trail": true}}',
  'missing_id.json': '{"users": [{"name": "x"}]}',
  'unknown_kind.json': '{"events": [{"at": "2026-11-22T10:00:00Z", "kind": "fly"}]}',
  'no_such_date.json': '{"events": [\n  {"at": "2026-11-31T10:00:00Z", "kind": "set_plan", "plan": "basic"}]}',
  'unknown_user.json': '{"events": [{"at": "2026-11-22T10:00:00Z", "kind": "login", "user": "ghost"}]}',
  'negative.json': '{"org": {"temporary_days": -1}}',
  'not_an_object.json': '[]',
  'empty.json': '',
  'duplicate_plans.json': '{"org": {"plans": [{"name": "gold"}, {"name": "gold"}]}}',
  'state_refused.json': '{"org": {"licenses": {"standard": 1}},\n "users": [\n  {"id": "ana", "standard": "assigned"},\n'
    + '  {"id": "ana", "standard": "assigned"},\n  {"id": "ben", "standard": "assigned"}]}',
};

test('bad scenarios give the CLI\'s located errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'turnstile-bad-'));
  try {
    for (const [name, body] of Object.entries(BAD)) {
      const path = join(dir, name);
      writeFileSync(path, body);
      const want = cli(['run', path]);
      assert.equal(want.status, 2, name);
      assert.equal(want.stdout.length, 0, name);
      assert.ok(want.stderr.toString().startsWith(`turnstile: ${path}`), `${name}: ${want.stderr}`);
      assert.throws(() => run(body, path), (e) => {
        assert.ok(e instanceof TurnstileError, name);
        assert.equal(`turnstile: ${e.message}\n`, want.stderr.toString(), name);
        assert.deepEqual(e.lines, e.message.split('\n'));
        assert.ok(Array.isArray(e.payload) && e.payload.length === e.lines.length, name);
        return true;
      }, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a state that doesn\'t load lists every problem in place', () => {
  assert.throws(() => run(BAD['state_refused.json'], 'state.json'), (e) => {
    assert.ok(e.lines.length >= 2, e.message);
    assert.ok(e.lines.every((l) => l.startsWith('state.json:')), e.message);
    assert.ok(e.payload.some((d) => d.path.startsWith('users[')));
    return true;
  });
});

test('cli.mjs prints what the CLI prints', () => {
  const same = (args, input) => {
    const [got, want] = [nodeCli(args, input), cli(['run', ...args], input)];
    assert.equal(got.stderr.toString(), want.stderr.toString(), args.join(' '));
    assert.ok(got.stdout.equals(want.stdout), `${args.join(' ')}: stdout differs`);
    assert.equal(got.status, want.status, args.join(' '));
    return got;
  };
  same(['examples/licensing.json']);
  assert.match(same(['--explain', 'examples/licensing.json']).stdout.toString(), /"remedies":\[\{/);
  same(['-'], readFileSync(join(ROOT, 'examples', 'calls.json')));
  assert.equal(same(['-'], BAD['no_such_date.json']).status, 2);
  same(['no/such.json']);
  same(['-'], Buffer.from('{"users": [\n{"id": "\xff"}]}', 'latin1'));
});

test('cli.mjs --help prints its usage', () => {
  for (const flag of ['--help', '-h']) {
    const { status, stdout, stderr } = nodeCli([flag]);
    assert.equal(status, 0);
    assert.equal(stderr.length, 0);
    assert.match(stdout.toString(), /^Usage: turnstile-policy \[--explain\] SCENARIO\|-\n/);
  }
  const { status, stderr } = nodeCli([]);
  assert.equal(status, 2);
  assert.match(stderr.toString(), /^Usage: /);
});
