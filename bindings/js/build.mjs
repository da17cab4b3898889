// `npm run build`: the policy component into this package, as an ES module with documented types.
//
// 1. The component: $TURNSTILE_WASM if set (scripts/test-bindings sets it to the file it just wrote),
//    else built from this repository with
//      cargo run --release --locked -p turnstile -- component --out ../../target/turnstile.wasm
// 2. jco (pinned in package-lock.json) transpiles it into generated/: turnstile.js, its core wasm
//    and .d.ts files. The transpiled module imports nothing but Node built-ins (a test checks).
// 3. The .d.ts files are generated again from the WIT itself (../../wit), which carries the doc
//    comments the component binary doesn't, and replace jco's: every exported function and type
//    is documented as the WIT documents it. Before they replace them, the two are compared with
//    comments and spacing left out: types that differ mean the component and the WIT are not the
//    same version, and the build stops. jco leaves out a resource's own doc comment (its methods'
//    are kept): it is put above the resource's class here, from the WIT.
//
// (`jco types wit/` would do step 3, but jco 1.35's CLI gives its WIT reader no file system:
// "failed to read path for WIT ... (os error 44)". The same generator is called here through
// jco-transpile with the WIT directory opened for it.)
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { componentFile, transpileComponent } from './transpile.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const WIT = join(ROOT, 'wit');
const OUT = join(HERE, 'generated');
const NAME = 'turnstile';

const fail = (message) => {
  console.error(`turnstile-policy build: ${message}`);
  process.exit(1);
};

function transpile(wasm) {
  const jco = join(HERE, 'node_modules', '@bytecodealliance', 'jco', 'dist', 'jco.js');
  try {
    transpileComponent({ wasm, jco, name: NAME, out: OUT });
  } catch (e) {
    fail(e.message);
  }
}

/** The .d.ts files of the WIT's world, documented, as { relative path: text }. */
async function documentedTypes() {
  const require = createRequire(import.meta.url);
  const bindgen = require.resolve('@bytecodealliance/jco-transpile/component');
  const shim = createRequire(bindgen).resolve('@bytecodealliance/preview2-shim/filesystem');
  const { _setPreopens } = await import(pathToFileURL(shim));
  const { generateTypes, $init } = await import(pathToFileURL(bindgen));
  await $init;
  _setPreopens({ '/wit': WIT }); // the WIT directory, and nothing else
  try {
    const files = generateTypes(NAME, { wit: { tag: 'path', val: '/wit' }, world: 'policy' });
    return Object.fromEntries(files.map(([name, bytes]) => [name, new TextDecoder().decode(bytes)]));
  } finally {
    _setPreopens({});
  }
}

/** The doc comment of each resource in the WIT, by its class name in the .d.ts (`org` -> `Org`). */
function resourceDocs() {
  const docs = {};
  for (const file of readdirSync(WIT).filter((f) => f.endsWith('.wit'))) {
    let pending = [];
    for (const line of readFileSync(join(WIT, file), 'utf8').split('\n')) {
      const doc = /^\s*\/\/\/ ?(.*)$/.exec(line);
      const resource = /^\s*resource\s+%?([a-z][a-z0-9-]*)/.exec(line);
      if (resource && pending.length) {
        docs[resource[1].replace(/(^|-)([a-z0-9])/g, (_, __, c) => c.toUpperCase())] = pending;
      }
      pending = doc ? [...pending, doc[1]] : [];
    }
  }
  return docs;
}

/** `text` with each resource class that has no doc comment given the WIT's. */
function documentResources(text, docs) {
  return text.replace(/(^|\n)(export class (\w+)\b[^\n]*\{)/g, (whole, start, line, name) => {
    if (!docs[name]) return whole;
    return `${start}/**\n${docs[name].map((l) => (l ? ` * ${l}` : ' *')).join('\n')}\n */\n${line}`;
  });
}

const bare = (text) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '').replace(/\s+/g, ' ').trim();

function listTypes(dir, base = dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listTypes(path, base);
    return name.endsWith('.d.ts') ? [relative(base, path)] : [];
  });
}

let wasm;
try {
  wasm = componentFile({ env: 'TURNSTILE_WASM', out: join(ROOT, 'target', 'turnstile.wasm'), args: [], log: 'turnstile-policy build' });
} catch (e) {
  fail(e.message);
}
transpile(wasm);
const documented = await documentedTypes();
const transpiled = listTypes(OUT).sort();
const fromWit = Object.keys(documented).sort();
if (JSON.stringify(transpiled) !== JSON.stringify(fromWit)) {
  fail(`${wasm} and ${WIT} disagree: the component's interfaces give ${transpiled.join(', ')}, the WIT's ${fromWit.join(', ')}`
    + ' (rebuild the component from this WIT)');
}
for (const name of transpiled) {
  if (bare(readFileSync(join(OUT, name), 'utf8')) !== bare(documented[name])) {
    fail(`${wasm} and ${WIT} disagree on the types of ${name} (rebuild the component from this WIT)`);
  }
}
const resources = resourceDocs();
for (const [name, text] of Object.entries(documented)) {
  mkdirSync(dirname(join(OUT, name)), { recursive: true });
  writeFileSync(join(OUT, name), documentResources(text, resources));
}
console.error(`turnstile-policy build: ${relative(process.cwd(), OUT) || '.'}/ from ${wasm}, types documented from the WIT`);
