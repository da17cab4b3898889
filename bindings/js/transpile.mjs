// What the JavaScript builds share (this package's build.mjs and the web page's web/build.mjs):
// a component file, taken from the environment or written by the repository's own CLI, and jco's
// transpilation of it into an ES module. Errors are thrown with a message that says the fix.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The component to transpile: the file named by the environment variable `env` when it is set,
 * else `out`, written by `cargo run --release --locked -p turnstile -- component ARGS --out OUT`
 * (`args`: `[]` for the policy component, `['--formats']` for the formats component).
 */
export function componentFile({ env, out, args, log }) {
  if (process.env[env]) {
    if (!existsSync(process.env[env])) throw new Error(`${env}=${process.env[env]}: no such file`);
    return process.env[env];
  }
  if (!existsSync(join(ROOT, 'Cargo.toml'))) throw new Error(`${ROOT} is not the Turnstile repository: set ${env} to a component`);
  const cargo = ['run', '--release', '--locked', '-p', 'turnstile', '--', 'component', ...args, '--out', out];
  console.error(`${log}: cargo ${cargo.join(' ')}`);
  try {
    execFileSync('cargo', cargo, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (e) {
    if (e.code === 'ENOENT') {
      throw new Error('cargo was not found on PATH: the component is built from the repository (install Rust: '
        + 'https://rustup.rs, then `rustup target add wasm32-unknown-unknown`), or set '
        + `${env} to a component (\`${['turnstile component', ...args, '--out FILE'].join(' ')}\`)`);
    }
    throw new Error(`cargo ${cargo.join(' ')} failed (see above)`);
  }
  return out;
}

/**
 * Transpiles `wasm` with jco (`jco`: the path of jco's dist/jco.js in the caller's node_modules)
 * into `out` (emptied first): `NAME.js`, its core wasm and .d.ts files. The component imports
 * nothing, so no WASI shim is needed. The module runs on Node and in browsers alike: it reads its
 * core wasm with node:fs on Node and fetches it, beside itself, elsewhere.
 */
export function transpileComponent({ wasm, jco, name, out }) {
  if (!existsSync(jco)) throw new Error(`no jco at ${jco}: run \`npm ci\` first`);
  rmSync(out, { recursive: true, force: true });
  execFileSync(process.execPath, [jco, 'transpile', wasm, '--name', name, '--out-dir', out, '--no-wasi-shim', '--quiet'],
    { stdio: ['ignore', 'inherit', 'inherit'] });
}
