// What the tests share: where things are, and the Rust CLI the bindings must agree with.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const JS = dirname(dirname(fileURLToPath(import.meta.url)));
export const ROOT = join(JS, '..', '..');
export const VECTORS = join(ROOT, 'tests', 'conformance');
export const CLI = process.env.TURNSTILE_CLI ?? join(ROOT, 'target', 'release', 'turnstile');

/** Every scenario, relative to the root: the conformance vectors and the examples (examples/org.json is an `org` alone). */
export function scenarios() {
  const vectors = readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort().map((f) => `tests/conformance/${f}`);
  const examples = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.json') && f !== 'org.json').sort()
    .map((f) => `examples/${f}`);
  return [...vectors, ...examples];
}

/** A command run from `cwd`: { status, stdout, stderr } (Buffers). */
export function runIn(cwd, command, args, input) {
  const done = spawnSync(command, args, { cwd, input, maxBuffer: 1 << 28 });
  if (done.error) throw done.error;
  return { status: done.status, stdout: done.stdout, stderr: done.stderr };
}

/** `turnstile ARGS` run from the repository root. */
export function cli(args, input) {
  if (!existsSync(CLI)) throw new Error(`no ${CLI}: build it first (cargo build --release), or set TURNSTILE_CLI`);
  return runIn(ROOT, CLI, args, input);
}

/** `node cli.mjs ARGS` run from the repository root. */
export function nodeCli(args, input) {
  return runIn(ROOT, process.execPath, [join(JS, 'cli.mjs'), ...args], input);
}
