// The README's JavaScript example is bindings/js/example.mjs, and it prints what the README shows.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { JS, ROOT } from './support.mjs';

export const EXAMPLE_OUTPUT = `\
ask  ana: L6
sync ana: allow=true code=ok rule=L6 license=standard message="sync allowed: standard licence" detail=undefined
    assign ana 2026-11-22T10:00:00Z
    touch ana 2026-11-22T10:00:00Z
sync ben: allow=false code=license-not-found rule=L8 license=undefined message="LICENSE: NOT FOUND" detail="no free standard licence"
{"event":1,"kind":"sync","user":"ben","allow":false,"code":"LICENSE_NOT_FOUND","message":"LICENSE: NOT FOUND","rule":"L8","detail":"no free standard licence","effects":[]}
ana holds standard: assigned
`;

test('the README shows example.mjs and its output verbatim', () => {
  const example = readFileSync(join(JS, 'example.mjs'), 'utf8');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes(example), 'README.md must show bindings/js/example.mjs verbatim');
  assert.ok(readme.includes('```\n' + EXAMPLE_OUTPUT + '```'), 'README.md must show example.mjs\'s output');
});

test('example.mjs runs as the README says', () => {
  // One Standard licence, auto-assignment on: ana gets it (L6), ben finds none (L8).
  const out = execFileSync(process.execPath, [join(JS, 'example.mjs')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(out, EXAMPLE_OUTPUT);
});
