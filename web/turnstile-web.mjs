// What the page asks the components, without any DOM: a scenario run (the playground) and a
// what-if (run in a worker). Every decision, line, message, count and listing here comes from the
// policy component (`engine` decides) or from the formats component (`scenario` reads scenarios
// and renders decisions and diagnostics, `listing` is the CLI's own CSV reader and writer): this
// module only moves values between them, in the order `turnstile run` and `turnstile what-if` do.
// Both components export the same `types`, so what one returns the other takes as it is.
import { engine } from './generated/policy/turnstile.js';
import { listing, scenario } from './generated/formats/formats.js';

/** Users moved per call, and syncs decided per call: the CLI's page and batch (1 << 16). */
export const PAGE = 1 << 16;

/** The CLI's name for the organisation when none is given. */
export const DEFAULT_ORG = 'the default organisation';

/** Something the user gave can't be used: `lines` say why, as the CLI prints them (after `turnstile: `). */
export class InputError extends Error {
  constructor(lines, places = []) {
    super(lines.join('\n'));
    this.name = 'InputError';
    this.lines = lines;
    /** `{ line, column }` of each diagnostic in the input, for the editor. */
    this.places = places;
  }
}

/** The WIT error value a component call refused with (jco throws it as `payload`), or the error itself. */
function refusal(e) {
  if (e && typeof e === 'object' && 'payload' in e) return e.payload;
  throw e;
}

const dispose = (resource) => resource?.[Symbol.dispose]?.();

const diagnosticLine = (d) => scenario.renderDiagnostic(d);

/**
 * A scenario run as `turnstile run` runs it: `{ lines }`, each decision's JSON line as the
 * formats component renders it; or an InputError with the CLI's located lines.
 */
export function runScenario(text, source) {
  let parsed;
  try {
    parsed = scenario.parse(text, source);
  } catch (e) {
    const diagnostics = refusal(e);
    throw new InputError(diagnostics.map(diagnosticLine), diagnostics.map(({ line, column }) => ({ line, column })));
  }
  let org;
  try {
    org = engine.Org.load(parsed.state);
  } catch (e) {
    throw new InputError(refusal(e).map((p) => `${source}: ${p.field}: ${p.message}`));
  }
  try {
    return {
      lines: parsed.events.map((event, i) => {
        const decision = org.step(event);
        // As `turnstile run`: a scenario with "explain": true gets each denial's remedies.
        if (parsed.explain && !decision.allow) return scenario.renderExplained(i, event, decision, org.explain(event));
        return scenario.renderDecision(i, event, decision);
      }),
    };
  } finally {
    dispose(org);
  }
}

/** An organisation's settings as the CLI reads `--org` (with `sets`, as `--set`), or an InputError. */
export function readOrg(text, source, sets = []) {
  try {
    return scenario.parseOrg(text, source, sets);
  } catch (e) {
    throw new InputError([diagnosticLine(refusal(e))]);
  }
}

/** The `turnstile what-if` command that asks the same question (for people, and for the tests). */
export function command({ users, org, sets, at }) {
  const quote = (s) => (/^[\w./:=+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
  const args = ['turnstile', 'what-if', '--users', users];
  if (org) args.push('--org', org);
  for (const set of sets) args.push('--set', set);
  args.push('--at', at, '--format', 'json');
  return args.map(quote).join(' ');
}

/**
 * A what-if, as `turnstile what-if` answers it: the users listing `users` (a Blob, named
 * `usersSource`) read by the CLI's reader a MiB at a time, each page loaded into two
 * organisations, before (`orgText` as it is) and after (with `sets`); then every user syncs once
 * at `at`, in row order, on each side; the two sides compared by the same code as the CLI's.
 * `progress({ phase, done, total })` hears how far it got. Returns an Answer (dispose it).
 */
export async function whatIf({ users, usersSource, orgText, orgSource, sets, at: atText }, progress = () => {}) {
  let at;
  try {
    at = listing.parseInstant(atText);
  } catch (e) {
    throw new InputError([`--at: ${refusal(e)}`]);
  }
  const noOrg = orgText === null;
  const orgName = noOrg ? DEFAULT_ORG : orgSource;
  const before = readOrg(noOrg ? '{}' : orgText, orgName, []);
  const after = readOrg(noOrg ? '{}' : orgText, orgName, sets);
  const started = performance.now();
  const timings = [];

  const reader = new listing.Reader(usersSource);
  const sides = [new engine.Loader(before), new engine.Loader(after)];
  const orgs = [];
  try {
    const size = users.size;
    reader.expectBytes(BigInt(size));
    // A listing's row is a hundred bytes or so, two thirds of it texts (as the CLI reckons).
    for (const loader of sides) loader.expect(Math.min(Math.floor(size / 100), 0xffffffff), BigInt(Math.floor((size * 2) / 3)));
    const load = (page) => {
      for (const loader of sides) loader.addPopulation(page);
    };
    const CHUNK = 1 << 20;
    let rows = 0;
    for (let offset = 0; offset < size; offset += CHUNK) {
      const bytes = new Uint8Array(await users.slice(offset, offset + CHUNK).arrayBuffer());
      const reading = reader.feed(bytes);
      for (let page; (page = reader.takePage(PAGE)) !== undefined;) {
        rows += page.standard.length;
        load(page);
      }
      progress({ phase: 'reading', done: Math.min(offset + CHUNK, size), total: size, rows });
      if (!reading) break;
    }
    const found = reader.finish();
    for (let page; (page = reader.takePage(PAGE)) !== undefined;) load(page);
    const errors = found.filter((d) => d.severity === 'error');
    if (errors.length > 0) {
      throw new InputError([`${usersSource}: the users listing can't be used:`, ...errors.map(diagnosticLine)]);
    }
    const warnings = found.filter((d) => d.severity !== 'error').map(diagnosticLine);
    for (const [i, loader] of sides.splice(0).entries()) {
      const settings = i === 0 ? before : after;
      try {
        orgs.push(engine.Loader.finish(loader));
      } catch (e) {
        const source = i === 0 ? orgName : `${orgName} with --set`;
        const placed = reader.place(refusal(e), settings.licenses.standard, settings.licenses.inspections, source);
        const lines = [`the organisation ${i === 0 ? 'before' : 'after'} the change: the users can't be loaded:`, ...placed.map(diagnosticLine)];
        if (noOrg) lines.push('(no --org given: the default organisation has no purchased licences)');
        throw new InputError(lines);
      }
    }
    timings.push(['read and load', performance.now() - started]);

    const count = orgs[0].userCount();
    const batches = [[], []];
    for (const [side, org] of orgs.entries()) {
      const began = performance.now();
      for (let first = 0; first < count; first += PAGE) {
        batches[side].push(org.syncUsers(at, 'mobile', first, PAGE));
        progress({ phase: side === 0 ? 'syncing before' : 'syncing after', done: Math.min(first + PAGE, count), total: count });
      }
      timings.push([side === 0 ? 'syncs before' : 'syncs after', performance.now() - began]);
    }
    let comparison;
    try {
      comparison = listing.compare(batches[0], batches[1]);
    } catch (e) {
      throw new InputError([`the components disagree: ${refusal(e)}`]);
    }
    const lines = reader.lines();
    timings.push(['total', performance.now() - started]);
    return new Answer({ orgs, batches, comparison, lines, warnings, count, at, atText, timings });
  } catch (e) {
    for (const org of orgs) dispose(org);
    throw e;
  } finally {
    for (const loader of sides) dispose(loader);
    dispose(reader);
  }
}

/** What a what-if found; holds the two organisations until disposed (for names and the listing). */
export class Answer {
  constructor({ orgs, batches, comparison, lines, warnings, count, at, atText, timings }) {
    Object.assign(this, { orgs, batches, comparison, lines, warnings, users: count, atText, timings });
    this.at = at;
  }

  /** Outcome number `position` of side 0 (before) or 1 (after) as the CLI's table says it: `allow standard (L7)`. */
  describe(side, position, named) {
    const batch = this.batches[side][Math.floor(position / PAGE)];
    const o = batch.items[position % PAGE];
    return `${o.allow && o.license !== undefined ? 'allow' : 'deny'} ${named} (${batch.rules[o.rule]})`;
  }

  /** The first `limit` users whose outcome changes: line, id, name, before, after. */
  changed(limit = Infinity) {
    const shown = this.comparison.changed.slice(0, limit);
    const names = [];
    for (let i = 0; i < shown.length; i += PAGE) {
      names.push(...this.orgs[1].userNames(shown.slice(i, i + PAGE).map((c) => c.position)));
    }
    return shown.map((c, i) => ({
      line: this.lines[c.position],
      id: names[i].id,
      name: names[i].name,
      before: this.describe(0, c.position, c.before),
      after: this.describe(1, c.position, c.after),
    }));
  }

  /** The after side's users as a users listing, in pieces (what `--out-users` writes). */
  afterListing() {
    const org = this.orgs[1];
    const count = org.userCount();
    const parts = [];
    for (let first = 0; first === 0 || first < count; first += PAGE) {
      parts.push(listing.writeListing(org.population(first, PAGE), first === 0));
    }
    return parts;
  }

  /** What the page shows and the worker posts back. */
  summary(limit) {
    return {
      users: this.users,
      at: this.atText,
      counts: this.comparison.counts,
      changedCount: this.comparison.changed.length,
      changed: this.changed(limit),
      warnings: this.warnings,
      timings: this.timings,
    };
  }

  [Symbol.dispose]() {
    for (const org of this.orgs) dispose(org);
    this.orgs = [];
  }
}
