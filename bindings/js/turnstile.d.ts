// Types of turnstile.mjs. The components' own types (records, enums, variants, the `Org`,
// `Loader` and `Reader` classes, every function) are generated from the WIT by `npm run build`,
// with the WIT's doc comments, into generated/policy/interfaces/*.d.ts (the policy component:
// types, engine) and generated/formats/interfaces/*.d.ts (the formats component: types, scenario,
// listing); both components' `types` are the one WIT interface. Resource classes are `Disposable`
// (TypeScript's `esnext.disposable` library, or @types/node).
import type { Decision, Event } from './generated/policy/interfaces/turnstile-policy-types.js';

/**
 * Every type of the WIT's `types` interface, which both components share (types only: nothing
 * to call).
 */
export type * as types from './generated/policy/interfaces/turnstile-policy-types.js';

/**
 * The policy component's `engine` interface: the organisation (`engine.Org.load(state)`),
 * defaults (`engine.defaultSettings()`, `engine.newUser(id)`), and the types it uses. A refusal
 * throws a {@link TurnstileError}.
 */
export * as engine from './generated/policy/interfaces/turnstile-policy-engine.js';

/**
 * The formats component's `scenario` interface: scenario files read (`scenario.parse(text, source)`),
 * decision lines and diagnostics written. A refusal throws a {@link TurnstileError}.
 */
export * as scenario from './generated/formats/interfaces/turnstile-policy-scenario.js';

/**
 * The formats component's `listing` interface: licence CSV files read a piece at a time
 * (`new listing.Reader(source)`), users written as a listing (`listing.writeListing`), instants
 * read as the CLI's `--at` (`listing.parseInstant`), a what-if's sides compared
 * (`listing.compare`). A refusal throws a {@link TurnstileError}.
 */
export * as listing from './generated/formats/interfaces/turnstile-policy-listing.js';

/** A call the component refused. */
export declare class TurnstileError extends Error {
  /** One line per problem: a scenario's as `turnstile run` prints them (`FILE:LINE:COLUMN: path: message`), a state's as `field: message`. */
  readonly lines: string[];
  /** The WIT error value (a `problem`, a list of `diagnostic`s, ...). */
  readonly payload: unknown;
}

/** The JSON line `turnstile run` prints for `decision`, the answer to event number `index`. */
export declare function decisionLine(index: number, event: Event, decision: Decision): string;

/**
 * A scenario's decision lines (without newlines), exactly as `turnstile run` prints them.
 * `source` names the scenario in messages (default `<string>`). A scenario that can't be read
 * throws a {@link TurnstileError} whose `lines` are what `turnstile run` prints after `turnstile: `.
 */
export declare function run(text: string, source?: string, options?: { explain?: boolean }): string[];

/** RFC 3339 text (`2026-11-22T10:00:00Z`) or a Date as an instant: BigInt seconds since the epoch. */
export declare function instant(value: string | Date): bigint;

/** An instant (BigInt seconds since the epoch) as RFC 3339 text in UTC: `2026-11-22T10:00:00Z`. */
export declare function rfc3339(at: bigint): string;
