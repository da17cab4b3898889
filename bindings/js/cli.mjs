#!/usr/bin/env node
// `turnstile-policy [--explain] SCENARIO|-` (or `node cli.mjs ...`): a scenario's decisions, one JSON line per
// event, the same bytes as `turnstile run SCENARIO`; a scenario that can't be read exits 2 printing
// what `turnstile run` prints: `turnstile: ` and each problem placed in the file.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { run, TurnstileError } from './turnstile.mjs';

const USAGE = `\
Usage: turnstile-policy [--explain] SCENARIO|-

Feed a scenario's events to the policy and print one JSON decision per event, as
\`turnstile run\` does: each decision's effects are applied before the next event.
SCENARIO is a scenario file, or - for standard input. --explain adds each denial's
remedies to its line, as \`turnstile run --explain\` does.

Exit status: 0 every event decided (denials included); 2 the scenario can't be used.
`;

// The messages of the errors a file is likely to give, as the CLI (Rust's io::Error) says them.
const STRERROR = { ENOENT: 'No such file or directory', EACCES: 'Permission denied', EISDIR: 'Is a directory' };

/** How many bytes at the start of `bytes` are valid UTF-8. */
function validUpTo(bytes) {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const [n, lo, hi] = b < 0x80 ? [1, 0, 0] : b >= 0xc2 && b <= 0xdf ? [2, 0x80, 0xbf]
      : b === 0xe0 ? [3, 0xa0, 0xbf] : b === 0xed ? [3, 0x80, 0x9f] : b >= 0xe1 && b <= 0xef ? [3, 0x80, 0xbf]
        : b === 0xf0 ? [4, 0x90, 0xbf] : b === 0xf4 ? [4, 0x80, 0x8f] : b >= 0xf1 && b <= 0xf3 ? [4, 0x80, 0xbf] : [0];
    if (n === 0 || i + n > bytes.length || (n > 1 && (bytes[i + 1] < lo || bytes[i + 1] > hi))) return i;
    for (let k = 2; k < n; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    i += n;
  }
  return i;
}

function fail(message) {
  process.stderr.write(`turnstile: ${message}\n`);
  process.exitCode = 2;
}

function main(args) {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(USAGE);
    return;
  }
  const explain = args.includes('--explain');
  args = args.filter((a) => a !== '--explain');
  if (args.length !== 1 || (args[0].startsWith('-') && args[0] !== '-')) {
    process.stderr.write(USAGE);
    process.exitCode = 2;
    return;
  }
  const [file] = args;
  const source = file === '-' ? '<stdin>' : file;
  let bytes;
  try {
    bytes = readFileSync(file === '-' ? 0 : file);
  } catch (e) {
    fail(`${source}: ${STRERROR[e.code] ?? e.message} (os error ${constants.errno[e.code] ?? e.errno})`);
    return;
  }
  const valid = validUpTo(bytes);
  if (valid < bytes.length) {
    fail(`${source}:${bytes.subarray(0, valid).toString('latin1').split('\n').length}: not UTF-8 text`);
    return;
  }
  let lines;
  try {
    lines = run(bytes.toString('utf8'), source, { explain });
  } catch (e) {
    if (!(e instanceof TurnstileError)) throw e;
    fail(e.message);
    return;
  }
  process.stdout.on('error', (e) => {
    if (e.code !== 'EPIPE') throw e;
  });
  process.stdout.write(lines.map((line) => `${line}\n`).join(''));
}

main(process.argv.slice(2));
