// `npm run build`: the two components into this package, as ES modules with documented types.
//
// 1. The components, each from its environment variable if set (scripts/test-bindings sets them
//    to the files it just wrote), else built from this repository with the CLI, which embeds both:
//    - the policy component (world `policy`: types + engine): $TURNSTILE_WASM, else
//        cargo run --release --locked -p turnstile -- component --out ../../target/turnstile.wasm
//    - the formats component (world `formats`: types + scenario + listing): $TURNSTILE_FORMATS_WASM,
//      else
//        cargo run ... -- component --formats --out ../../target/turnstile-formats.wasm
// 2. jco (pinned in package-lock.json) transpiles each into its own directory: generated/policy/
//    (turnstile.js) and generated/formats/ (formats.js), with their core wasm and .d.ts files.
//    The transpiled modules import nothing but Node built-ins (a test checks).
// 3. The .d.ts files are generated again from the WIT itself (../../wit), for each component's
//    world, which carries the doc comments the component binary doesn't, and replace jco's: every
//    exported function and type is documented as the WIT documents it. Before they replace them,
//    the two are compared with comments and spacing left out: types that differ mean the component
//    and the WIT are not the same version (or a component is the other world's), and the build
//    stops. jco leaves out a resource's own doc comment (its methods' are kept): it is put above
//    the resource's class here, from the WIT.
//
// (`jco types wit/` would do step 3, but jco 1.35's CLI gives its WIT reader no file system:
// "failed to read path for WIT ... (os error 44)". The same generator is called here through
// jco-transpile with the WIT directory opened for it.)
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { componentFile, transpileComponent } from './transpile.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const WIT = join(ROOT, 'wit');
const OUT = join(HERE, 'generated');

/** The components this package carries: jco's module name, the WIT world, where each comes from. */
const COMPONENTS = [
  { name: 'turnstile', world: 'policy', dir: 'policy', env: 'TURNSTILE_WASM', file: 'turnstile.wasm', args: [] },
  { name: 'formats', world: 'formats', dir: 'formats', env: 'TURNSTILE_FORMATS_WASM', file: 'turnstile-formats.wasm', args: ['--formats'] },
];

const fail = (message) => {
  console.error(`turnstile-policy build: ${message}`);
  process.exit(1);
};

function transpile(wasm, name, out) {
  const jco = join(HERE, 'node_modules', '@bytecodealliance', 'jco', 'dist', 'jco.js');
  try {
    transpileComponent({ wasm, jco, name, out });
  } catch (e) {
    fail(e.message);
  }
}

/** The .d.ts files of the WIT's `world`, documented, as { relative path: text }. */
async function documentedTypes(name, world) {
  const require = createRequire(import.meta.url);
  const bindgen = require.resolve('@bytecodealliance/jco-transpile/component');
  const shim = createRequire(bindgen).resolve('@bytecodealliance/preview2-shim/filesystem');
  const { _setPreopens } = await import(pathToFileURL(shim));
  const { generateTypes, $init } = await import(pathToFileURL(bindgen));
  await $init;
  _setPreopens({ '/wit': WIT }); // the WIT directory, and nothing else
  try {
    const files = generateTypes(name, { wit: { tag: 'path', val: '/wit' }, world });
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

rmSync(OUT, { recursive: true, force: true });
const resources = resourceDocs();
const built = [];
for (const { name, world, dir, env, file, args } of COMPONENTS) {
  let wasm;
  try {
    wasm = componentFile({ env, out: join(ROOT, 'target', file), args, log: 'turnstile-policy build' });
  } catch (e) {
    fail(e.message);
  }
  const out = join(OUT, dir);
  transpile(wasm, name, out);
  const documented = await documentedTypes(name, world);
  const transpiled = listTypes(out).sort();
  const fromWit = Object.keys(documented).sort();
  if (JSON.stringify(transpiled) !== JSON.stringify(fromWit)) {
    fail(`${wasm} and ${WIT} disagree: the component's interfaces give ${transpiled.join(', ')}, world \`${world}\`'s `
      + `${fromWit.join(', ')} (rebuild the ${world} component from this WIT; is ${env} the ${world} component?)`);
  }
  for (const types of transpiled) {
    if (bare(readFileSync(join(out, types), 'utf8')) !== bare(documented[types])) {
      fail(`${wasm} and ${WIT} disagree on the types of ${types} (rebuild the ${world} component from this WIT)`);
    }
  }
  for (const [types, text] of Object.entries(documented)) {
    mkdirSync(dirname(join(out, types)), { recursive: true });
    writeFileSync(join(out, types), documentResources(text, resources));
  }
  built.push(`${relative(process.cwd(), out) || '.'}/ from ${wasm}`);
}
console.error(`turnstile-policy build: ${built.join(', ')}; types documented from the WIT`);
