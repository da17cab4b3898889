// `npm run build` (in web/): everything the static page loads that isn't its own source, into
// generated/ (git-ignored, rebuilt whole each time):
//
// - generated/policy/: the policy component the CLI embeds (world `policy`: types + engine),
//   transpiled by jco ($TURNSTILE_WASM, else `turnstile component --out ../target/turnstile.wasm`
//   built by cargo);
// - generated/formats/: the formats component (wit/formats.wit, world `formats`: types + scenario +
//   listing), the CLI's own scenario reader and writer and CSV reader and writer
//   ($TURNSTILE_FORMATS_WASM, else `turnstile component --formats --out ../target/turnstile-formats.wasm`);
// - generated/examples/: the shipped examples (examples/*.json, users.csv) and an index of them;
// - generated/docs/: docs/*.md as HTML pages (marked), so a decision's rule links to its text
//   offline: links between the documents point to their HTML, links to the rest of the
//   repository become plain text (the page serves nothing outside web/).
//
// The transpiling is bindings/js's (transpile.mjs), with the jco pinned in this package-lock.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Marked } from 'marked';
import { ROOT, componentFile, transpileComponent } from '../bindings/js/transpile.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, 'generated');
const LOG = 'web build';

function fail(message) {
  console.error(`${LOG}: ${message}`);
  process.exit(1);
}

function components() {
  const jco = join(HERE, 'node_modules', '@bytecodealliance', 'jco', 'dist', 'jco.js');
  const policy = componentFile({ env: 'TURNSTILE_WASM', out: join(ROOT, 'target', 'turnstile.wasm'), args: [], log: LOG });
  const formats = componentFile({
    env: 'TURNSTILE_FORMATS_WASM', out: join(ROOT, 'target', 'turnstile-formats.wasm'), args: ['--formats'], log: LOG,
  });
  transpileComponent({ wasm: policy, jco, name: 'turnstile', out: join(OUT, 'policy') });
  transpileComponent({ wasm: formats, jco, name: 'formats', out: join(OUT, 'formats') });
}

function examples() {
  const from = join(ROOT, 'examples');
  const to = join(OUT, 'examples');
  mkdirSync(to, { recursive: true });
  // examples/org.json is an `org` alone (for what-if), not a scenario.
  const scenarios = readdirSync(from).filter((f) => f.endsWith('.json') && f !== 'org.json').sort();
  for (const name of [...scenarios, 'org.json', 'users.csv']) copyFileSync(join(from, name), join(to, name));
  writeFileSync(join(to, 'index.json'), `${JSON.stringify({ scenarios, org: 'org.json', users: 'users.csv' }, null, 2)}\n`);
}

const escape = (text) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function docs() {
  const from = join(ROOT, 'docs');
  const to = join(OUT, 'docs');
  mkdirSync(to, { recursive: true });
  const pages = readdirSync(from).filter((f) => f.endsWith('.md')).sort();
  const marked = new Marked({ gfm: true });
  marked.use({
    renderer: {
      link({ href, title, tokens }) {
        const text = this.parser.parseInline(tokens);
        const [path, anchor] = href.split('#');
        let target = null;
        if (/^[a-z]+:/i.test(href)) target = href; // another site: a link the reader may follow
        else if (path === '') target = href; // this page
        else if (pages.includes(path)) target = `${path.replace(/\.md$/, '.html')}${anchor ? `#${anchor}` : ''}`;
        if (target === null) {
          // Elsewhere in the repository: not served with the page.
          return `<span class="repo-path" title="${escape(`in the repository: ${relative(ROOT, join(from, path)) || path}`)}">${text}</span>`;
        }
        return `<a href="${escape(target)}"${title ? ` title="${escape(title)}"` : ''}>${text}</a>`;
      },
    },
  });
  for (const name of pages) {
    const markdown = readFileSync(join(from, name), 'utf8');
    const title = /^# (.+)$/m.exec(markdown)?.[1] ?? name;
    const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} — Turnstile</title>
<link rel="stylesheet" href="../../docs.css">
</head>
<body>
<nav><a href="../../index.html">Turnstile playground</a> · docs/${escape(name)}</nav>
<main>
${marked.parse(markdown)}</main>
</body>
</html>
`;
    writeFileSync(join(to, name.replace(/\.md$/, '.html')), html);
  }
  if (!pages.includes('rules.md')) fail(`${from}/rules.md is missing: decisions link to it`);
}

try {
  rmSync(OUT, { recursive: true, force: true });
  components();
  examples();
  docs();
} catch (e) {
  fail(e.message);
}
if (!existsSync(join(OUT, 'policy', 'turnstile.js')) || !existsSync(join(OUT, 'formats', 'formats.js'))) fail('jco wrote no module');
console.error(`${LOG}: ${relative(process.cwd(), OUT) || '.'}/ written (components, examples, docs)`);
