// The formats component's `listing` (licence CSV files) from JavaScript, with the policy
// component's `engine`: a what-if on examples/users.csv, asked as `turnstile what-if` asks it,
// gives the CLI's counts, changed users (with their rules) and after listing (`--out-users`) byte
// for byte; a broken listing gives the CLI's located errors.
//
// The calls are those of `turnstile what-if` (and of the web page): the listing read a piece at a
// time by the CLI's own reader, each page of users loaded into two organisations, every user synced
// once on each side, the sides compared and the after side written, all by the components. Values
// cross from one component to the other as jco gives them (camelCase, typed arrays, BigInt instants).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { engine, listing, scenario } from 'turnstile-policy';
import { cli, ROOT } from './support.mjs';

const PAGE = 1 << 16; // users per call, as the CLI
const AT = '2026-11-22T10:00:00Z';
const USERS = 'examples/users.csv';
const ORG = 'examples/org.json';
const dispose = (resource) => resource?.[Symbol.dispose ?? Symbol.for('dispose')]?.();

/** The listing `data` (bytes) read `piece` bytes at a time: { pages, diagnostics, lines }. */
function read(data, source, piece = 100) {
  const reader = new listing.Reader(source);
  try {
    const pages = [];
    const take = () => {
      for (let page; (page = reader.takePage(PAGE)) !== undefined;) pages.push(page);
    };
    reader.expectBytes(BigInt(data.length));
    for (let offset = 0; offset < data.length; offset += piece) {
      const reading = reader.feed(data.subarray(offset, offset + piece));
      take();
      if (!reading) break;
    }
    const diagnostics = reader.finish();
    take();
    return { pages, diagnostics, lines: reader.lines() };
  } finally {
    dispose(reader);
  }
}

/** `turnstile what-if --users USERS --org ORG --set ... --at AT` through the two components. */
function whatIf(sets) {
  const orgText = readFileSync(join(ROOT, ORG), 'utf8');
  const settings = [scenario.parseOrg(orgText, ORG, []), scenario.parseOrg(orgText, ORG, sets)];
  const at = listing.parseInstant(AT);
  assert.equal(typeof at, 'bigint');
  const { pages, diagnostics, lines } = read(readFileSync(join(ROOT, USERS)), USERS);
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(pages.every((p) => p.standard instanceof Uint8Array && p.lastSync instanceof BigInt64Array), 'columns are typed arrays');
  assert.equal(pages.reduce((n, p) => n + p.standard.length, 0), 9);
  const orgs = [];
  try {
    for (const side of settings) {
      const loader = new engine.Loader(side);
      for (const page of pages) loader.addPopulation(page);
      orgs.push(engine.Loader.finish(loader));
    }
    const count = orgs[0].userCount();
    const batches = orgs.map((org) => {
      const out = [];
      for (let first = 0; first < count; first += PAGE) out.push(org.syncUsers(at, 'mobile', first, PAGE));
      return out;
    });
    const comparison = listing.compare(batches[0], batches[1]);
    let after = '';
    for (let first = 0; first === 0 || first < count; first += PAGE) {
      after += listing.writeListing(orgs[1].population(first, PAGE), first === 0);
    }
    const names = orgs[1].userNames(comparison.changed.map((c) => c.position));
    return { comparison, batches, names, lines, after };
  } finally {
    orgs.forEach(dispose);
  }
}

test('a what-if gives the CLI\'s figures, changed users and after listing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'turnstile-what-if-'));
  try {
    for (const sets of [['auto_assign=true', 'auto_free=true'], ['licenses.standard=4', 'inactive_days=30', 'auto_assign=true'], []]) {
      const out = join(dir, 'after.csv');
      const want = cli(['what-if', '--users', USERS, '--org', ORG, ...sets.flatMap((s) => ['--set', s]), '--at', AT,
        '--format', 'json', '--out-users', out]);
      assert.equal(want.status, 0, want.stderr.toString());
      const rows = want.stdout.toString().split('\n').filter((l) => l).map((l) => JSON.parse(l));
      const { summary } = rows.pop();

      const { comparison, batches, names, lines, after } = whatIf(sets);
      assert.deepEqual(comparison.counts.map((c) => [c.outcome, c.before, c.after]),
        Object.keys(summary.before).map((k) => [k, summary.before[k], summary.after[k]]), sets.join(' '));
      assert.equal(comparison.changed.length, summary.changed);
      const named = (o) => (o.allow && o.license ? o.license : o.code);
      const rule = (side, position) => {
        const batch = batches[side][Math.floor(position / PAGE)];
        return batch.rules[batch.items[position % PAGE].rule];
      };
      assert.deepEqual(
        comparison.changed.map((c, i) => [names[i].id, names[i].name, c.before, rule(0, c.position), c.after, rule(1, c.position)]),
        rows.map((u) => [u.id, u.name, named(u.before), u.before.rule, named(u.after), u.after.rule]), sets.join(' '));
      assert.equal(lines.length, 9);
      assert.equal(after, readFileSync(out, 'utf8'));
      if (sets.length) assert.ok(rows.length > 0, 'the question changes someone\'s outcome');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a broken listing gives the CLI\'s located errors', () => {
  const broken = Buffer.from('"Id","Full Name","Email","Standard","Inspections"\n"a","Ana","a@x.pl","Yes",""\n'
    + '"b","Bo","b@x.pl","","Assigned"\n"a","Ana again","a2@x.pl","",""\n');
  const dir = mkdtempSync(join(tmpdir(), 'turnstile-broken-'));
  try {
    const path = join(dir, 'broken.csv');
    writeFileSync(path, broken);
    const want = cli(['what-if', '--users', path, '--at', AT]);
    assert.equal(want.status, 2);
    const [header, ...lines] = want.stderr.toString().split('\n').filter((l) => l);
    assert.equal(header, `turnstile: ${path}: the users listing can't be used:`);
    const { diagnostics } = read(broken, path, 7);
    const got = diagnostics.filter((d) => d.severity === 'error').map((d) => scenario.renderDiagnostic(d));
    assert.ok(got.length > 0);
    assert.deepEqual(got, lines);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
