// Turnstile from JavaScript: build an organisation, ask for decisions, keep the state.
// `npm run transpile` (run by ./scripts/test) turns target/turnstile.wasm into generated/turnstile.js.
// Run from the repository root: node bindings/js/example.mjs
import { engine } from './generated/turnstile.js';
import { formatInstant, parseInstant } from './turnstile.mjs';

// One Standard licence, given out automatically; defaults come from the component.
const settings = engine.defaultSettings();
settings.licenses.standard = 1;
settings.autoAssign = true;
const state = { settings, users: [engine.newUser('ana'), engine.newUser('ben')], groups: [], sessions: [] };

const sync = (user, at) => ({ at: parseInstant(at), kind: { tag: 'sync', val: { user, channel: 'mobile' } } });

const org = engine.Org.load(state); // throws a ComponentError whose .payload lists the problems
// decide() only asks; step() decides and applies the decision's effects.
console.log('ask  ana:', org.decide(sync('ana', '2026-11-22T10:00:00Z')).rule);
for (const user of ['ana', 'ben']) {
  const d = org.step(sync(user, '2026-11-22T10:00:00Z'));
  console.log(`sync ${user}: allow=${d.allow} code=${d.code} rule=${d.rule} license=${d.license} ` +
    `message=${JSON.stringify(d.message)} detail=${JSON.stringify(d.detail)}`);
  for (const effect of d.effects) { // variants are { tag, val }; instants are BigInt seconds
    console.log('   ', effect.tag, effect.val.user, formatInstant(effect.val.at));
  }
}
const saved = org.snapshot(); // persist this, load it later
console.log('ana holds standard:', saved.users[0].standard);
