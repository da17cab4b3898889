// `node bindings/js/cli.mjs SCENARIO|-`: one JSON decision line per event, like `turnstile run`,
// through the component jco transpiled into generated/ (`npm run transpile`).
// A scenario that can't be read exits 2 with a message naming the place.
import { readFileSync } from 'node:fs';
import { engine } from './generated/turnstile.js';
import { read, run, ScenarioError, StateError } from './turnstile.mjs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node cli.mjs SCENARIO|-');
  process.exit(2);
}
try {
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  for (const line of run(engine, read(engine, text))) console.log(JSON.stringify(line));
} catch (e) {
  if (!(e instanceof ScenarioError || e instanceof StateError || e.code === 'ENOENT')) throw e;
  console.error(`turnstile: ${file === '-' ? '<stdin>' : file}: ${e.message}`);
  process.exit(2);
}
