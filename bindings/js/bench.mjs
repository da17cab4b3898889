// Cost of one decision through the component from JavaScript (jco on Node).
//
// The same measurements as the Rust host's `cargo bench -p turnstile --bench decisions`:
// a pure `decide` on a fixed organisation of 1,000 users, repeated; the median of several
// rounds. Each call includes lowering the event and lifting the decision (jco's bindings).
//
//   node bindings/js/bench.mjs [N]        (after `npm run build`)
import { engine } from 'turnstile-policy';

const T = 1795341600n; // 2026-11-22T10:00:00Z
const DAY = 86400n;

function organisation(users) {
  const settings = engine.defaultSettings();
  settings.licenses.standard = Math.floor(users / 2);
  settings.autoAssign = true;
  settings.autoFree = true;
  const people = [];
  for (let i = 0; i < users; i++) {
    const u = engine.newUser(`user-${String(i).padStart(7, '0')}`);
    if (i % 2 === 0) {
      u.standard = 'assigned';
      u.lastSync = T - BigInt(i % 365) * DAY;
    }
    people.push(u);
  }
  return { settings, users: people, groups: [], sessions: [] };
}

function perCall(rounds, calls, f) {
  const times = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) f();
    times.push(Number(process.hrtime.bigint() - start) / calls);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(rounds / 2)]; // nanoseconds
}

const n = Number(process.argv[2] ?? 10000);
const state = organisation(1000);
const org = engine.Org.load(state);
const sync = (user) => ({ at: T, kind: { tag: 'sync', val: { user, channel: 'mobile' } } });
const cases = [
  ['decide: sync, licence held (L4)', sync('user-0000000'), 'L4'],
  ['decide: sync, auto-free an inactive holder (L7)', sync('user-0000001'), 'L7'],
  ['decide: admin assign (L10)', { at: T, kind: { tag: 'assign', val: { user: 'user-0000003', license: 'inspections' } } }, 'L10'],
];
console.log(`jco on Node ${process.version}, median of 7 rounds of ${n.toLocaleString('en')} calls; an organisation of 1,000 users`);
for (const [label, event, rule] of cases) {
  if (org.decide(event).rule !== rule) throw new Error(`${label}: expected rule ${rule}`);
  perCall(1, n, () => org.decide(event)); // warm up the JIT
  const t = perCall(7, n, () => org.decide(event));
  console.log(`${label.padEnd(52)} ${(t / 1000).toFixed(2).padStart(10)} µs`);
}
const dispose = Symbol.dispose ?? Symbol.for('dispose');
const loadAndFree = () => engine.Org.load(state)[dispose]();
perCall(1, 5, loadAndFree); // warm up
const t = perCall(7, 5, loadAndFree);
console.log(`${'load an organisation of 1,000 users'.padEnd(52)} ${(t / 1e6).toFixed(2).padStart(10)} ms`);
