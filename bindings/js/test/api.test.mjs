// jco's typed API through the package: decisions, effects, snapshots, readable refusals, instants,
// values handed from the formats component to the policy component, and what the package is made
// of (two transpiled components, no runtime dependency; types documented from the WIT).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { decisionLine, engine, instant, listing, rfc3339, run, scenario, TurnstileError } from 'turnstile-policy';
import { JS, ROOT } from './support.mjs';

const AT = instant('2026-11-22T10:00:00Z');

function state(...ids) {
  const settings = engine.defaultSettings();
  settings.licenses.standard = 1;
  settings.autoAssign = true;
  return { settings, users: (ids.length ? ids : ['ana']).map((id) => engine.newUser(id)), groups: [], sessions: [] };
}

const sync = (user) => ({ at: AT, kind: { tag: 'sync', val: { user, channel: 'mobile' } } });

test('decide then apply is step; bad effects are refused whole; snapshots reload', () => {
  const [a, b] = [engine.Org.load(state()), engine.Org.load(state())];
  const decision = a.decide(sync('ana'));
  assert.deepEqual(a.snapshot(), b.snapshot(), 'decide changes nothing');
  a.apply(decision.effects);
  assert.deepEqual(b.step(sync('ana')), decision);
  assert.deepEqual(a.snapshot(), b.snapshot());
  assert.equal(a.snapshot().users[0].standard, 'assigned');
  assert.deepEqual(engine.Org.load(a.snapshot()).snapshot(), a.snapshot());
  const before = a.snapshot();
  const touch = (user) => ({ tag: 'touch', val: { user, at: 1n } });
  assert.throws(() => a.apply([touch('ana'), touch('ghost')]), (e) => {
    assert.ok(e instanceof TurnstileError);
    assert.equal(e.payload.field, 'effects[1]');
    assert.equal(e.message, `effects[1]: ${e.payload.message}`);
    return true;
  });
  assert.deepEqual(a.snapshot(), before, 'all or nothing');
});

test('second-edition events and the sessions query, in jco\'s spellings', () => {
  const org = engine.Org.load(state('ana', 'ben'));
  org.step(sync('ana'));
  const removed = org.step({ at: AT, kind: { tag: 'remove-mobile-user', val: 'ana' } });
  assert.equal(removed.rule, 'L13');
  assert.deepEqual(removed.effects.map((e) => e.tag), ['unassign', 'reset-mobile-user']);
  const refused = org.decide({ at: AT, kind: { tag: 'set-settings', val: { temporaryDays: 0, maxActiveUsers: 1 } } });
  assert.equal(refused.code, 'invalid-settings');
  assert.equal(refused.violations.length, 2);
  org.step({ at: AT, kind: { tag: 'login', val: 'ben' } });
  const [session] = org.sessions(AT + 31n * 60n);
  assert.equal(session.user, 'ben');
  assert.equal(session.idleSeconds, 31 * 60, 'a duration is a number, only instants are BigInt');
  assert.equal(session.live, false);
  assert.equal(engine.info().rules, '2');
});

test('a refused state reads as the list of its problems', () => {
  const refused = state('ana', 'ana', 'ben');
  for (const user of refused.users) user.standard = 'assigned';
  assert.throws(() => engine.Org.load(refused), (e) => {
    assert.ok(e instanceof TurnstileError);
    assert.ok(Array.isArray(e.payload) && e.payload.length >= 2, String(e.payload));
    assert.equal(e.message, e.payload.map((p) => `${p.field}: ${p.message}`).join('\n'));
    assert.ok(!e.message.includes('[object Object]'));
    assert.equal(e.cause?.constructor.name, 'ComponentError');
    assert.ok(e.payload.some((p) => p.overAssigned === 'standard'));
    return true;
  });
});

test('decision lines are the component\'s, and JSON.stringify of them gives them back', () => {
  const org = engine.Org.load(state('ana', 'ben'));
  const lines = [sync('ana'), sync('ben')].map((event, i) => decisionLine(i, event, org.step(event)));
  assert.deepEqual(lines.map((l) => JSON.stringify(JSON.parse(l))), lines);
  assert.equal(JSON.parse(lines[1]).code, 'LICENSE_NOT_FOUND');
  assert.deepEqual(JSON.parse(lines[0]).effects.map((e) => e.kind), ['assign', 'touch']);
});

test('parse gives the typed state and events; its errors are the component\'s lines', () => {
  const s = scenario.parse('{"users": [{"id": "u"}], "events": [{"at": "2026-11-22T10:00:00Z", "kind": "sync", "user": "u"}]}', 's');
  assert.deepEqual(s.state.settings, engine.defaultSettings());
  assert.deepEqual(s.state.users, [engine.newUser('u')]);
  assert.deepEqual(s.events, [{ at: AT, kind: { tag: 'sync', val: { user: 'u', channel: 'mobile' } } }]);
  // Read by the formats component, loaded and decided by the policy component, as they are.
  const org = engine.Org.load(s.state);
  assert.deepEqual(org.snapshot().users, [engine.newUser('u')]);
  assert.equal(org.decide(s.events[0]).rule, 'L9', 'no licence bought: the temporary one');
  assert.throws(() => scenario.parseOrg('{"trail": true}', 'org.json', []), (e) => {
    assert.deepEqual(e.lines, [scenario.renderDiagnostic(e.payload)]);
    assert.match(e.message, /^org\.json:1:2: /);
    return true;
  });
  assert.deepEqual(run('{}'), []);
});

test('instants', () => {
  assert.equal(instant('1970-01-01T00:00:00Z'), 0n);
  assert.equal(instant('2026-11-22T11:00:00+01:00'), AT);
  assert.equal(instant(new Date('2026-11-22T10:00:00Z')), AT);
  assert.equal(rfc3339(AT), '2026-11-22T10:00:00Z');
  assert.equal(rfc3339(-1n), '1969-12-31T23:59:59Z');
  for (const bad of ['2026-11-31T10:00:00Z', '2026-11-22T10:00:00.5Z', '2026-11-22T10:00:00', 'Nov 22 2026']) {
    assert.throws(() => instant(bad), RangeError, bad);
  }
});

/** Every file under `dir`, relative to it. */
const filesUnder = (dir, base = dir) => readdirSync(dir).flatMap((name) => {
  const path = join(dir, name);
  return statSync(path).isDirectory() ? filesUnder(path, base) : [path.slice(base.length + 1)];
});

test('the transpiled components need nothing at run time but Node itself', () => {
  const generated = join(JS, 'generated');
  const modules = filesUnder(generated).filter((f) => f.endsWith('.js')).sort();
  assert.deepEqual(modules, ['formats/formats.js', 'policy/turnstile.js']);
  const code = modules.map((f) => readFileSync(join(generated, f), 'utf8')).join('\n');
  const specifiers = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
  assert.deepEqual(specifiers.filter((s) => !s.startsWith('node:')), [], 'imports other than Node built-ins');
  assert.ok(!code.includes('preview2-shim'), 'no WASI shim');
  const pkg = JSON.parse(readFileSync(join(JS, 'package.json'), 'utf8'));
  assert.equal(pkg.dependencies, undefined, 'no runtime dependency');
});

/** The `///` lines of each interface of the WIT, by interface name. */
function witDocs() {
  const docs = {};
  const witDir = join(ROOT, 'wit');
  for (const file of readdirSync(witDir).filter((f) => f.endsWith('.wit'))) {
    let current = null;
    let depth = 0;
    for (const line of readFileSync(join(witDir, file), 'utf8').split('\n')) {
      const open = /^\s*interface\s+([a-z][a-z0-9-]*)\s*\{/.exec(line);
      if (open && depth === 0) current = open[1];
      const doc = /^\s*\/\/\/ ?(.*)$/.exec(line);
      if (doc && current && depth > 0 && doc[1].trim()) (docs[current] ??= []).push(doc[1]);
      depth += (line.replace(/\/\/.*/, '').match(/\{/g) ?? []).length - (line.replace(/\/\/.*/, '').match(/\}/g) ?? []).length;
      if (depth === 0) current = null;
    }
  }
  return docs;
}

test('the types carry the WIT\'s doc comments, each component\'s interfaces its own', () => {
  const docs = witDocs();
  const generated = join(JS, 'generated');
  const files = filesUnder(generated).filter((f) => f.endsWith('.d.ts') && f.includes('/interfaces/')).sort();
  // Each world's interfaces, and `types` in both: the policy component decides, the formats one reads and writes.
  assert.deepEqual(files, [
    'formats/interfaces/turnstile-policy-listing.d.ts', 'formats/interfaces/turnstile-policy-scenario.d.ts',
    'formats/interfaces/turnstile-policy-types.d.ts',
    'policy/interfaces/turnstile-policy-engine.d.ts', 'policy/interfaces/turnstile-policy-types.d.ts',
  ]);
  for (const file of files) {
    const name = /turnstile-policy-([a-z-]+)\.d\.ts$/.exec(file)[1];
    assert.ok(docs[name]?.length, `no doc lines for interface ${name} in the WIT`);
    const types = readFileSync(join(generated, file), 'utf8');
    const missing = docs[name].filter((line) => !types.includes(line));
    assert.deepEqual(missing, [], `${file} lacks doc lines of interface ${name}`);
  }
  assert.equal(readFileSync(join(generated, 'policy/interfaces/turnstile-policy-types.d.ts'), 'utf8'),
    readFileSync(join(generated, 'formats/interfaces/turnstile-policy-types.d.ts'), 'utf8'), 'one `types` for both');
  const main = readFileSync(join(JS, 'turnstile.d.ts'), 'utf8');
  assert.match(main, /export \* as engine from '\.\/generated\/policy\/interfaces\/turnstile-policy-engine\.js'/);
  assert.match(main, /export \* as scenario from '\.\/generated\/formats\/interfaces\/turnstile-policy-scenario\.js'/);
  assert.match(main, /export \* as listing from '\.\/generated\/formats\/interfaces\/turnstile-policy-listing\.js'/);
});

test('an instant the CLI\'s --at refuses is refused with its message', () => {
  assert.equal(listing.parseInstant('2026-11-22T10:00:00Z'), AT);
  assert.throws(() => listing.parseInstant('soon'), (e) => {
    assert.ok(e instanceof TurnstileError);
    assert.equal(typeof e.payload, 'string');
    assert.equal(e.message, e.payload, 'the message as it is, not JSON');
    assert.deepEqual(e.lines, [e.payload]);
    return true;
  });
});
