// Every conformance vector replayed through the component from JavaScript (jco, Node).
//
// Each tests/conformance/NAME.json is read by turnstile.mjs, loaded with `Org.load` and
// stepped event by event; every decision line must equal the line in NAME.expected.jsonl
// (written by the Rust host) as data, field by field: allow, code, rule, message, the
// kind-specific fields and the effects in order. A failure names the vector, the event and
// the first differing field.
//
// Run (after `npm run transpile`): cd bindings/js && node --test test/
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { engine } from '../generated/turnstile.js';
import { formatInstant, parseInstant, read, run, ScenarioError } from '../turnstile.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const JS = dirname(HERE);
const ROOT = join(JS, '..', '..');
const VECTORS = join(ROOT, 'tests', 'conformance');

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

function vectors() {
  return readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort();
}

function expectedLines(name) {
  const path = join(VECTORS, name.replace(/\.json$/, '.expected.jsonl'));
  if (!existsSync(path)) throw new Error(`no ${name.replace(/\.json$/, '.expected.jsonl')} beside it`);
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

/** The first difference between this host's lines and the expected ones, or null. */
function replay(name) {
  // Through JSON text, as the Rust host prints them: the comparison is of data.
  const got = JSON.parse(JSON.stringify(run(engine, read(engine, readFileSync(join(VECTORS, name), 'utf8')))));
  const want = expectedLines(name);
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    const diff = firstDifference('', got[i], want[i]);
    if (diff) return `event ${i}: ${diff}`;
  }
  return got.length === want.length ? null : `${got.length} decisions, expected ${want.length}`;
}

test('every vector gives the Rust host\'s decisions', () => {
  const found = vectors();
  assert.ok(found.length > 0, `no vectors in ${VECTORS}`);
  const failures = [];
  for (const name of found) {
    let diff;
    try {
      diff = replay(name);
    } catch (e) {
      diff = `${e.constructor.name}: ${e.message}`;
    }
    if (diff) failures.push(`${name} ${diff}`);
  }
  if (failures.length) assert.fail(`${failures.length} of ${found.length} vectors differ:\n${failures.join('\n')}`);
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

test('instants round-trip and convert offsets', () => {
  assert.equal(parseInstant('1970-01-01T00:00:00Z'), 0n);
  assert.equal(parseInstant('2026-11-22T11:00:00+01:00'), parseInstant('2026-11-22T10:00:00Z'));
  assert.equal(formatInstant(parseInstant('2024-02-29T23:59:59Z')), '2024-02-29T23:59:59Z');
  assert.equal(formatInstant(-1n), '1969-12-31T23:59:59Z');
  for (const bad of ['2026-11-31T10:00:00Z', '2026-11-22T10:00:00.5Z', '2026-11-22T10:00:00', '2026-11-22']) {
    assert.throws(() => parseInstant(bad), RangeError, bad);
  }
});

test('defaults come from the component', () => {
  const s = read(engine, '{"users": [{"id": "u"}], "events": [{"at": "2026-11-22T10:00:00Z", "kind": "sync", "user": "u"}]}');
  assert.deepEqual(s.state.settings, engine.defaultSettings());
  assert.deepEqual(s.state.users, [engine.newUser('u')]);
  assert.deepEqual(s.events[0].kind, { tag: 'sync', val: { user: 'u', channel: 'mobile' } });
});

test('bad scenarios name the place', () => {
  const cases = {
    '{"org": {"trail": true}}': 'org.trail: unknown field',
    '{"users": [{"name": "x"}]}': 'users[0].id: missing field',
    '{"events": [{"at": "2026-11-22T10:00:00Z", "kind": "fly"}]}': 'events[0].kind: unknown event kind `fly`',
    '{"events": [{"at": "2026-11-31T10:00:00Z", "kind": "set_plan", "plan": "basic"}]}': 'events[0].at: `2026-11-31',
    '{"events": [{"at": "2026-11-22T10:00:00Z", "kind": "login", "user": "ghost"}]}': 'events[0].user: unknown user `ghost`',
    '{"org": {"temporary_days": -1}}': 'org.temporary_days: expected an integer',
  };
  for (const [text, message] of Object.entries(cases)) {
    assert.throws(() => read(engine, text), (e) => e instanceof ScenarioError && e.message.startsWith(message), text);
  }
});

test('own plans replace defaults; duplicates are refused in the scenario\'s terms', () => {
  let s = read(engine, '{"org": {"plans": [{"name": "basic", "feature_sets": ["calls"]}]}}');
  assert.deepEqual(s.state.settings.plans.map((p) => p.name), ['basic', 'reach', 'record']);
  assert.deepEqual(s.state.settings.plans[0].featureSets, ['calls']);
  s = read(engine, '{"org": {"plans": [{"name": "gold"}, {"name": "gold"}]}}');
  assert.throws(() => run(engine, s), (e) => e instanceof ScenarioError && e.message.includes('inconsistent state:\n  org.plans[4].name:'));
});

test('decide then apply is step; bad effects are refused whole; snapshots reload', () => {
  const state = () => {
    const settings = engine.defaultSettings();
    settings.licenses.standard = 1;
    settings.autoAssign = true;
    return { settings, users: [engine.newUser('ana')], groups: [], sessions: [] };
  };
  const sync = { at: parseInstant('2026-11-22T10:00:00Z'), kind: { tag: 'sync', val: { user: 'ana', channel: 'mobile' } } };
  const [a, b] = [engine.Org.load(state()), engine.Org.load(state())];
  const decision = a.decide(sync);
  assert.deepEqual(a.snapshot(), b.snapshot(), 'decide changes nothing');
  a.apply(decision.effects);
  assert.deepEqual(b.step(sync), decision);
  assert.deepEqual(a.snapshot(), b.snapshot());
  assert.equal(a.snapshot().users[0].standard, 'assigned');
  assert.deepEqual(engine.Org.load(a.snapshot()).snapshot(), a.snapshot());
  const before = a.snapshot();
  const touch = (user) => ({ tag: 'touch', val: { user, at: 1n } });
  assert.throws(() => a.apply([touch('ana'), touch('ghost')]), (e) => e.payload?.field === 'effects[1]');
  assert.deepEqual(a.snapshot(), before, 'all or nothing');
  const twice = state();
  twice.users.push(engine.newUser('ana'));
  assert.throws(() => engine.Org.load(twice), (e) => Array.isArray(e.payload) && e.payload.length > 0);
});

test('the transpiled component needs nothing at run time but Node itself', () => {
  const generated = join(JS, 'generated');
  const code = readdirSync(generated).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(generated, f), 'utf8')).join('\n');
  const specifiers = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
  assert.deepEqual(specifiers.filter((s) => !s.startsWith('node:')), [], 'imports other than Node built-ins');
  assert.ok(!code.includes('preview2-shim'), 'no WASI shim');
});

const EXAMPLE_OUTPUT = `\
ask  ana: L6
sync ana: allow=true code=ok rule=L6 license=standard message="sync allowed: standard licence" detail=undefined
    assign ana 2026-11-22T10:00:00Z
    touch ana 2026-11-22T10:00:00Z
sync ben: allow=false code=license-not-found rule=L8 license=undefined message="LICENSE: NOT FOUND" detail="no free standard licence"
ana holds standard: assigned
`;

test('the README shows example.mjs and its output verbatim', () => {
  const example = readFileSync(join(JS, 'example.mjs'), 'utf8');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes(example), 'README.md must show bindings/js/example.mjs verbatim');
  assert.ok(readme.includes('```\n' + EXAMPLE_OUTPUT + '```'), 'README.md must show example.mjs\'s output');
});

test('example.mjs runs as the README says', () => {
  // One Standard licence, auto-assignment on: ana gets it (L6), ben finds none (L8).
  const out = execFileSync(process.execPath, [join(JS, 'example.mjs')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(out, EXAMPLE_OUTPUT);
});
