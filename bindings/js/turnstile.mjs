// Turnstile's policy engine from JavaScript: its two components, transpiled by jco into
// generated/ (`npm run build`), with their typed API used as it is, and what a host needs around it.
//
// - The policy component (generated/policy/, world `policy`: types + engine) decides; the formats
//   component (generated/formats/, world `formats`: types + scenario + listing) reads and writes
//   scenario files and licence CSV files. Both export the same `types`, so what one returns (a
//   scenario's state, a page of users) is handed to the other as it is.
// - `engine`, `scenario` and `listing` are the components' interfaces as jco gives them (types in
//   generated/*/interfaces/*.d.ts, documented from the WIT): records are objects with camelCase
//   keys (`inspectionsEnabled`), enum values and variant tags keep the WIT spelling
//   (`'license-not-found'`, `{ tag: 'close-session', val: 'u1' }`), options are a value or
//   `undefined`, instants are BigInt seconds since the epoch.
// - One change: a refusal (`Org.load`, `org.apply`, `scenario.parse`, `listing.parseInstant`, ...) throws a
//   `TurnstileError` whose message lists every problem (a scenario's, placed in the file, exactly
//   as `turnstile run` prints them), with the WIT error value as `payload`, instead of jco's
//   `ComponentError: [object Object]`.
// - `run(text, source)` gives a scenario's decision lines, and `decisionLine(i, event, decision)`
//   one decision's line: the same bytes as `turnstile run`, written by the formats component.
//
// Nothing here knows an event kind, a field or a code: the components read and write scenarios.
import * as policy from './generated/policy/turnstile.js';
import * as formats from './generated/formats/formats.js';

/** A call the component refused: `payload` is the WIT error value, `lines` say it, one problem each. */
export class TurnstileError extends Error {
  constructor(lines, payload, cause) {
    super(lines.join('\n'), { cause });
    this.name = 'TurnstileError';
    this.lines = lines;
    this.payload = payload;
  }
}

const isClass = (f) => /^class[\s{]/.test(Function.prototype.toString.call(f));

/**
 * One item of an error value as text: a diagnostic as the formats component writes it, a problem
 * as `field: message`, a message (`listing.parseInstant`'s) as it is.
 */
function describe(item) {
  if (typeof item === 'string') return item;
  if (item && typeof item === 'object') {
    if ('severity' in item && 'source' in item) {
      try {
        return formats.scenario.renderDiagnostic(item);
      } catch {
        // not a diagnostic after all
      }
    }
    if (typeof item.message === 'string') return item.field ? `${item.field}: ${item.message}` : item.message;
  }
  return JSON.stringify(item, (_, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(item);
}

function readable(error) {
  // jco throws a ComponentError carrying the WIT error value of a `result` as `payload`.
  if (error?.constructor?.name !== 'ComponentError' || !('payload' in error)) return error;
  const items = Array.isArray(error.payload) ? error.payload : [error.payload];
  return new TurnstileError(items.map(describe), error.payload, error);
}

function wrap(f) {
  const wrapped = function (...args) {
    try {
      return new.target ? Reflect.construct(f, args, new.target) : f.apply(this, args);
    } catch (e) {
      throw readable(e);
    }
  };
  Object.defineProperty(wrapped, 'name', { value: f.name });
  return wrapped;
}

/** Each function of an interface, static function and method of its classes, refusing readably. */
function withReadableErrors(namespace) {
  const out = {};
  for (const [name, value] of Object.entries(namespace)) {
    if (typeof value !== 'function') {
      out[name] = value;
    } else if (isClass(value)) {
      for (const target of [value, value.prototype]) {
        for (const key of Object.getOwnPropertyNames(target)) {
          const d = Object.getOwnPropertyDescriptor(target, key);
          if (['length', 'name', 'prototype', 'constructor'].includes(key) || typeof d.value !== 'function') continue;
          Object.defineProperty(target, key, { ...d, value: wrap(d.value) });
        }
      }
      out[name] = value;
    } else {
      out[name] = wrap(value);
    }
  }
  return Object.freeze(out);
}

/** The policy component's `engine` interface: the organisation (`engine.Org.load(state)`), defaults, types. */
export const engine = withReadableErrors(policy.engine);

/** The formats component's `scenario` interface: scenario files read, decision lines written. */
export const scenario = withReadableErrors(formats.scenario);

/**
 * The formats component's `listing` interface: licence CSV files read a piece at a time
 * (`new listing.Reader(source)`), users written as a listing, instants read as the CLI's `--at`,
 * and a what-if's two sides compared.
 */
export const listing = withReadableErrors(formats.listing);

const dispose = Symbol.dispose ?? Symbol.for('dispose');

/** The JSON line `turnstile run` prints for `decision`, the answer to event number `index`. */
export function decisionLine(index, event, decision) {
  return scenario.renderDecision(index, event, decision);
}

/**
 * A scenario's decision lines (without newlines), exactly as `turnstile run` prints them: the
 * formats component reads the scenario's JSON text (`source` names it in messages), the policy
 * component loads its state and steps its events in order, each decision's effects applied before
 * the next event, and the formats component writes each line. A scenario
 * that can't be read throws a TurnstileError whose `lines` are what `turnstile run` prints after
 * `turnstile: `. With `{ explain: true }` (or `"explain": true` in the scenario) a denial's line
 * carries its remedies, as `turnstile run --explain` prints it.
 */
export function run(text, source = '<string>', { explain = false } = {}) {
  const parsed = scenario.parse(text, source);
  const org = engine.Org.load(parsed.state);
  try {
    return parsed.events.map((event, i) => {
      const decision = org.step(event);
      // A denial changes nothing: the remedies are asked of the state it was decided on.
      if ((explain || parsed.explain) && !decision.allow) {
        return scenario.renderExplained(i, event, decision, org.explain(event));
      }
      return decisionLine(i, event, decision);
    });
  } finally {
    org[dispose]?.();
  }
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The milliseconds of RFC 3339 text, or NaN (`Date.parse` alone takes November 31 as December 1). */
function parseRfc3339(text) {
  const m = RFC3339.exec(text);
  if (!m) return NaN;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > days || hour > 23 || minute > 59 || second > 59) return NaN;
  return Date.parse(text);
}

/**
 * An instant as the WIT has it (BigInt seconds since 1970-01-01T00:00:00Z) from RFC 3339 text
 * (`2026-11-22T10:00:00Z`, `...+01:00`) or a Date: a convenience over `Date` for events built in
 * code (scenario files are read by the component).
 */
export function instant(value) {
  const ms = value instanceof Date ? value.getTime() : parseRfc3339(String(value));
  if (Number.isNaN(ms)) throw new RangeError(`\`${value}\` is not an RFC 3339 instant, e.g. 2026-11-22T10:00:00Z`);
  if (ms % 1000 !== 0) throw new RangeError(`\`${value}\`: instants have whole-second precision`);
  return BigInt(ms / 1000);
}

/** An instant (BigInt seconds since the epoch) as RFC 3339 text in UTC: `2026-11-22T10:00:00Z`. */
export function rfc3339(at) {
  return new Date(Number(at) * 1000).toISOString().replace('.000Z', 'Z');
}
