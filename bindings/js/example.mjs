// Turnstile from JavaScript: build an organisation, ask for decisions, keep the state.
// In bindings/js after `npm ci && npm run build` (or in a project that installed the package):
// node example.mjs
import { decisionLine, engine, instant, rfc3339 } from 'turnstile-policy';

// One Standard licence, given out automatically; defaults come from the component.
const settings = engine.defaultSettings();
settings.licenses.standard = 1;
settings.autoAssign = true;
const state = { settings, users: [engine.newUser('ana'), engine.newUser('ben')], groups: [], sessions: [] };

const sync = (user, at) => ({ at: instant(at), kind: { tag: 'sync', val: { user, channel: 'mobile' } } });

const org = engine.Org.load(state); // a refused state throws a TurnstileError listing every problem
// decide() only asks; step() decides and applies the decision's effects.
console.log('ask  ana:', org.decide(sync('ana', '2026-11-22T10:00:00Z')).rule);
let event, d;
for (const user of ['ana', 'ben']) {
  event = sync(user, '2026-11-22T10:00:00Z');
  d = org.step(event);
  console.log(`sync ${user}: allow=${d.allow} code=${d.code} rule=${d.rule} license=${d.license} ` +
    `message=${JSON.stringify(d.message)} detail=${JSON.stringify(d.detail)}`);
  for (const effect of d.effects) { // variants are { tag, val }; instants are BigInt seconds
    console.log('   ', effect.tag, effect.val.user, rfc3339(effect.val.at));
  }
}
// The line `turnstile run` would print for this decision, as event number 1:
console.log(decisionLine(1, event, d));
const saved = org.snapshot(); // persist this, load it later
console.log('ana holds standard:', saved.users[0].standard);
