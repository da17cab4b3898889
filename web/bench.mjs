// How long a what-if takes in the page, in Chromium: the users listing and organisation given are
// opened in the page as a person would, the changes set, and the page's own timings reported.
//   node web/bench.mjs USERS.csv ORG.json [KEY=VALUE ...]
// e.g. after `cargo run --release --example gen_users -- 100000 /tmp/users.csv /tmp/org.json`:
//   node web/bench.mjs /tmp/users.csv /tmp/org.json auto_assign=true auto_free=true
// Needs `npm run build` in web/ and Chromium ($TURNSTILE_CHROMIUM, default /usr/bin/chromium).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const [users, org, ...sets] = process.argv.slice(2);
if (!users || !org) {
  console.error('usage: node web/bench.mjs USERS.csv ORG.json [KEY=VALUE ...]');
  process.exit(2);
}
const server = await serve({ port: 0 });
const profile = mkdtempSync(join(tmpdir(), 'turnstile-bench-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.TURNSTILE_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 60_000 });
  await page.setInputFiles('#users-file', users);
  await page.setInputFiles('#org-file', org);
  await page.waitForFunction((name) => document.getElementById('org-source').textContent === name, basename(org));
  await page.fill('#at', '2026-11-22T10:00:00Z');
  for (const set of sets) {
    const [key, value] = set.split('=');
    const id = `#set-${key.replace('.', '\\.')}`;
    if (value === 'true' || value === 'false') await page.setChecked(id, value === 'true');
    else await page.fill(id, value);
  }
  const started = Date.now();
  await page.click('#whatif-run');
  await page.waitForSelector('#whatif-area .summary, #whatif-errors pre', { timeout: 600_000 });
  const wall = (Date.now() - started) / 1000;
  const errors = await page.$$eval('#whatif-errors pre', (p) => p.map((x) => x.textContent));
  if (errors.length) throw new Error(errors.join('\n'));
  console.log(await page.$eval('#whatif-area .summary', (p) => p.textContent));
  console.log(await page.$eval('#whatif-command', (c) => c.textContent));
  console.log(`changed: ${await page.$eval('#changed-title', (h) => h.textContent)}`);
  console.log(`wall time from the click to the answer on screen: ${wall.toFixed(2)} s`);
  console.log(`page: ${await page.$eval('#whatif-area .toolbar .note', (n) => n.textContent)}`);
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
