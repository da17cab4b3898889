// Scenario files (shared/spec/scenario.md) in, decision lines out, as `turnstile run` does,
// with the policy component transpiled by jco (`npm run transpile` writes generated/turnstile.js).
//
// The engine is jco's typed WIT API, used as it is:
//   - a record is an object with camelCase keys (`inspections-enabled` -> `inspectionsEnabled`);
//   - an enum value and a variant tag keep the WIT spelling (`'license-not-found'`,
//     `{ tag: 'close-session', val: 'u1' }`);
//   - an option is the value or `undefined`; an instant (s64) is a BigInt of seconds since the epoch;
//   - `Org.load` throws a ComponentError whose `payload` lists the problems.
//
// `read(engine, text)` builds the state and events from a scenario's JSON, starting from the
// component's own `defaultSettings()` and `newUser(id)`, so no default is restated here except the
// scenario format's own (a `sync` is `mobile`, a `call` is `outbound` unless they say).
// `decisionLine(i, event, decision)` writes the JSON object the Rust host prints
// (host/src/render.rs); `run(engine, scenario)` does both for every event.
//
// Reading is strict like the Rust reader: an unknown or missing field, a value of the wrong JSON
// type, a bad instant or an event naming a user nobody has throws a ScenarioError naming its path.

// ------------------------------------------------------------------ instants

const DAY = 86400n;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

const div = (a, b) => Math.floor(a / b);

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0;
  const era = div(y, 400);
  const yoe = y - era * 400;
  const doy = div(153 * (m + (m > 2 ? -3 : 9)) + 2, 5) + d - 1;
  const doe = yoe * 365 + div(yoe, 4) - div(yoe, 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z) {
  z += 719468;
  const era = div(z, 146097);
  const doe = z - era * 146097;
  const yoe = div(doe - div(doe, 1460) + div(doe, 36524) - div(doe, 146096), 365);
  const doy = doe - (365 * yoe + div(yoe, 4) - div(yoe, 100));
  const mp = div(5 * doy + 2, 153);
  const d = doy - div(153 * mp + 2, 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function daysInMonth(y, m) {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

/** RFC 3339 text (`2026-11-22T10:00:00Z`, `...+01:00`) to a BigInt of seconds since the epoch. */
export function parseInstant(text) {
  const bad = (why) => new RangeError(`\`${text}\` is not an RFC 3339 instant (${why}), e.g. 2026-11-22T10:00:00Z`);
  const m = RFC3339.exec(text);
  if (!m) throw bad('expected YYYY-MM-DDTHH:MM:SSZ or an offset like +01:00');
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const [fraction, zone] = [m[7], m[8]];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) throw bad('no such date');
  if (hour > 23 || minute > 59 || second > 59) throw bad('no such time of day');
  if (fraction && /[1-9]/.test(fraction)) throw bad('instants have whole-second precision');
  let offset = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const [hours, minutes] = [Number(zone.slice(1, 3)), Number(zone.slice(4, 6))];
    if (hours > 23 || minutes > 59) throw bad('bad UTC offset');
    offset = (hours * 3600 + minutes * 60) * (zone[0] === '-' ? -1 : 1);
  }
  return BigInt(daysFromCivil(year, month, day)) * DAY + BigInt(hour * 3600 + minute * 60 + second - offset);
}

/** A BigInt of seconds since the epoch to `YYYY-MM-DDTHH:MM:SSZ`. */
export function formatInstant(at) {
  let days = at / DAY;
  let secs = at % DAY;
  if (secs < 0n) { secs += DAY; days -= 1n; }
  const [y, mo, d] = civilFromDays(Number(days));
  const s = Number(secs);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(y, 4)}-${p(mo)}-${p(d)}T${p(div(s, 3600))}:${p(div(s, 60) % 60)}:${p(s % 60)}Z`;
}

// ------------------------------------------------------------------ names

const camel = (key) => key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const snake = (key) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/-/g, '_');
const kebab = (name) => name.replace(/_/g, '-');

// ------------------------------------------------------------------ reading

export class ScenarioError extends Error {}

const typeName = (v) =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;

const KINDS = {
  bool: ['a boolean', (v) => typeof v === 'boolean'],
  str: ['a string', (v) => typeof v === 'string'],
  u32: ['an integer 0..4294967295', (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff],
  u8: ['an integer 0..255', (v) => Number.isInteger(v) && v >= 0 && v <= 0xff],
  object: ['an object', (v) => typeof v === 'object' && v !== null && !Array.isArray(v)],
  list: ['a list', (v) => Array.isArray(v)],
};

function check(path, value, kind) {
  const [wanted, ok] = KINDS[kind];
  if (!ok(value)) throw new ScenarioError(`${path}: expected ${wanted}, got ${typeName(value)}`);
  return value;
}

/** One JSON object being read: every field must be known, required ones present. */
class Obj {
  constructor(path, value, known) {
    this.path = path;
    this.value = check(path || 'scenario', value, 'object');
    for (const key of Object.keys(this.value)) {
      if (!known.includes(key)) throw new ScenarioError(`${this.at(key)}: unknown field, expected one of ${known.join(', ')}`);
    }
  }

  at(key) {
    return this.path ? `${this.path}.${key}` : key;
  }

  /** The field (null counts as absent), checked, or `fallback`. */
  get(key, kind, fallback = undefined) {
    const value = this.value[key];
    if (value === undefined || value === null) return fallback;
    if (kind === 'instant') {
      try {
        return parseInstant(check(this.at(key), value, 'str'));
      } catch (e) {
        if (e instanceof ScenarioError) throw e;
        throw new ScenarioError(`${this.at(key)}: ${e.message}`);
      }
    }
    if (kind === 'strs') return check(this.at(key), value, 'list').map((v, i) => check(`${this.at(key)}[${i}]`, v, 'str'));
    return check(this.at(key), value, kind);
  }

  need(key, kind) {
    const value = this.get(key, kind);
    if (value === undefined) throw new ScenarioError(`${this.at(key)}: missing field`);
    return value;
  }

  /** Sets each present field of `fields` (snake_case name -> kind) on `target`, camelCased. */
  overlay(target, fields) {
    for (const [key, kind] of Object.entries(fields)) {
      const value = this.get(key, kind);
      if (value !== undefined) target[camel(key)] = value;
    }
  }
}

const SETTINGS = {
  trial: 'bool', inspections_enabled: 'bool', auto_assign: 'bool', auto_free: 'bool',
  temporary_days: 'u32', inactive_days: 'u32', max_active_users: 'u32',
  idle_logout_minutes: 'u32', plan: 'str', home_country_code: 'str', billing_day: 'u8',
};
const USER = {
  name: 'str', email: 'str', external: 'bool', standard: 'str', inspections: 'str',
  temporary_since: 'instant', last_sync: 'instant', assigned_at: 'instant', account: 'str',
  has_password: 'bool', main_admin: 'bool', permission_group: 'str', groups: 'strs', sip: 'str',
};

function settings(engine, value) {
  const org = new Obj('org', value, [...Object.keys(SETTINGS), 'licenses', 'plans']);
  const s = engine.defaultSettings();
  org.overlay(s, SETTINGS);
  if (org.get('licenses', 'object') !== undefined) {
    new Obj('org.licenses', org.value.licenses, ['standard', 'inspections', 'external'])
      .overlay(s.licenses, { standard: 'u32', inspections: 'u32', external: 'bool' });
  }
  // An organisation's own plans are added to the defaults, replacing a default one of the
  // same name; two of its own with one name are both kept, so loading refuses them.
  const own = [];
  org.get('plans', 'list', []).forEach((raw, i) => {
    const p = new Obj(`org.plans[${i}]`, raw, ['name', 'feature_sets', 'country_filter', 'recording']);
    const plan = {
      name: p.need('name', 'str'),
      featureSets: p.get('feature_sets', 'strs', []),
      countryFilter: p.get('country_filter', 'bool', false),
      recording: p.get('recording', 'bool', false),
    };
    const at = s.plans.findIndex((p) => p.name === plan.name && !own.includes(p.name));
    own.push(plan.name);
    if (at >= 0) s.plans[at] = plan;
    else s.plans.push(plan);
  });
  return s;
}

/** A features form: absent fields take the defaults (a save saves the whole form). */
function features(engine, path, value) {
  const form = new Obj(path, value, ['feature_set', 'recording', 'crm_overlay', 'country_filter']);
  const f = engine.newUser('').features;
  form.overlay(f, { feature_set: 'str', recording: 'bool', crm_overlay: 'bool' });
  if (form.get('country_filter', 'object') !== undefined) {
    new Obj(`${path}.country_filter`, form.value.country_filter, ['enabled', 'allowed'])
      .overlay(f.countryFilter, { enabled: 'bool', allowed: 'strs' });
  }
  return f;
}

function user(engine, path, value) {
  const u = new Obj(path, value, ['id', ...Object.keys(USER), 'features', 'app']);
  const out = engine.newUser(u.need('id', 'str'));
  u.overlay(out, USER);
  if (u.get('features', 'object') !== undefined) out.features = features(engine, u.at('features'), u.value.features);
  if (u.get('app', 'object') !== undefined) {
    new Obj(u.at('app'), u.value.app, ['recording', 'crm_overlay']).overlay(out.app, { recording: 'bool', crm_overlay: 'bool' });
  }
  return out;
}

function group(path, value) {
  const g = new Obj(path, value, ['id', 'kind', 'parent', 'permissions']);
  return {
    id: g.need('id', 'str'),
    kind: g.need('kind', 'str'),
    parent: g.get('parent', 'str'),
    permissions: g.get('permissions', 'strs', []),
  };
}

const license = (e) => ({ user: e.need('user', 'str'), license: e.need('license', 'str') });
const userOnly = [['user'], (engine, e) => e.need('user', 'str')];
const userAction = [['actor', 'user'], (engine, e) => ({ actor: e.need('actor', 'str'), user: e.need('user', 'str') })];

/** Each event kind: its fields besides `at` and `kind`, and how to build the WIT payload. */
const EVENTS = {
  sync: [['user', 'channel'], (engine, e) => ({ user: e.need('user', 'str'), channel: e.get('channel', 'str', 'mobile') })],
  assign: [['user', 'license'], (engine, e) => license(e)],
  unassign: [['user', 'license'], (engine, e) => license(e)],
  disable: [['user', 'license'], (engine, e) => license(e)],
  activate: userOnly,
  deactivate: userOnly,
  login: userOnly,
  logout: userOnly,
  activity: [['user', 'tab_open'], (engine, e) => ({ user: e.need('user', 'str'), tabOpen: e.need('tab_open', 'bool') })],
  close_session: userOnly,
  set_password: [['user', 'password', 'confirm'],
    (engine, e) => ({ user: e.need('user', 'str'), password: e.need('password', 'str'), confirm: e.need('confirm', 'str') })],
  create_user: [['actor', 'user'],
    (engine, e) => ({ actor: e.need('actor', 'str'), user: user(engine, e.at('user'), e.need('user', 'object')) })],
  block_user: userAction,
  unblock_user: userAction,
  delete_user: userAction,
  delete_group: [['actor', 'group'], (engine, e) => ({ actor: e.need('actor', 'str'), group: e.need('group', 'str') })],
  save_features: [['user', 'features'],
    (engine, e) => ({ user: e.need('user', 'str'), features: features(engine, e.at('features'), e.need('features', 'object')) })],
  set_app_toggle: [['user', 'recording', 'crm_overlay'],
    (engine, e) => ({ user: e.need('user', 'str'), recording: e.get('recording', 'bool'), crmOverlay: e.get('crm_overlay', 'bool') })],
  set_plan: [['plan'], (engine, e) => e.need('plan', 'str')],
  call: [['user', 'to', 'direction'],
    (engine, e) => ({ user: e.need('user', 'str'), to: e.need('to', 'str'), direction: e.get('direction', 'str', 'outbound') })],
  sms: [['user', 'to'], (engine, e) => ({ user: e.need('user', 'str'), to: e.need('to', 'str') })],
};

function event(engine, path, value) {
  const kind = check(`${path}.kind`, check(path, value, 'object').kind, 'str');
  if (!Object.hasOwn(EVENTS, kind)) {
    throw new ScenarioError(`${path}.kind: unknown event kind \`${kind}\`, expected one of ${Object.keys(EVENTS).join(', ')}`);
  }
  const [fields, build] = EVENTS[kind];
  const e = new Obj(path, value, ['at', 'kind', ...fields]);
  // Scenario kinds are the WIT case names in snake_case.
  return { at: e.need('at', 'instant'), kind: { tag: kebab(kind), val: build(engine, e) } };
}

/** The existing users an event names, as [field, id], its subject first (as the Rust host's). */
export function namedUsers(kind) {
  const { tag, val } = kind;
  if (tag === 'set-plan') return [];
  if (tag === 'create-user' || tag === 'delete-group') return [['actor', val.actor]];
  if (['block-user', 'unblock-user', 'delete-user'].includes(tag)) return [['user', val.user], ['actor', val.actor]];
  return [['user', typeof val === 'string' ? val : val.user]];
}

function checkReferences(state, events) {
  const users = new Set(state.users.map((u) => u.id));
  const groups = new Set([...state.groups.map((g) => g.id), 'position']);
  events.forEach(({ kind }, i) => {
    for (const [field, id] of namedUsers(kind)) {
      if (!users.has(id)) throw new ScenarioError(`events[${i}].${field}: unknown user \`${id}\``);
    }
    if (kind.tag === 'create-user') users.add(kind.val.user.id);
    if (kind.tag === 'delete-group' && !groups.has(kind.val.group)) {
      throw new ScenarioError(`events[${i}].group: unknown group \`${kind.val.group}\``);
    }
  });
}

/** A scenario's JSON text as `{ state, events }`: the org-state to load and the events to step. */
export function read(engine, text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(e.message);
  }
  const top = new Obj('', data, ['about', 'org', 'users', 'groups', 'events']);
  const state = {
    settings: settings(engine, top.get('org', 'object', {})),
    users: top.get('users', 'list', []).map((u, i) => user(engine, `users[${i}]`, u)),
    groups: top.get('groups', 'list', []).map((g, i) => group(`groups[${i}]`, g)),
    sessions: [],
  };
  const events = top.get('events', 'list', []).map((e, i) => event(engine, `events[${i}]`, e));
  checkReferences(state, events);
  return { state, events };
}

// ------------------------------------------------------------------ writing

/** A record's keys in snake_case, all the way down (enum values here are single words). */
function snakeKeys(value) {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snake(k), snakeKeys(v)]));
}

/** Effects whose payload is a bare string, and the key it goes under. */
const STRING_EFFECTS = { end_session: 'user', set_password: 'user', remove_group: 'group', set_plan: 'plan' };
const USER_INSTANTS = ['temporarySince', 'lastSync', 'assignedAt'];

/** A user as the scenario format writes one: absent options left out, instants as text. */
export function userJson(u) {
  const out = {};
  for (const [key, value] of Object.entries(u)) {
    if (value === undefined || value === null) continue;
    out[snake(key)] = USER_INSTANTS.includes(key) ? formatInstant(value) : snakeKeys(value);
  }
  return out;
}

export function effectJson({ tag, val }) {
  const kind = snake(tag);
  if (kind === 'add_user') return { kind, user: val.id, record: userJson(val) };
  if (typeof val === 'string') return { kind, [STRING_EFFECTS[kind]]: val };
  const out = { kind };
  for (const [key, value] of Object.entries(val)) out[snake(key)] = key === 'at' ? formatInstant(value) : snakeKeys(value);
  return out;
}

/** The user a decision line is about: a new user for `create_user`, nobody for `set_plan`. */
export function subject(kind) {
  if (kind.tag === 'create-user') return kind.val.user.id;
  if (kind.tag === 'delete-group') return undefined;
  return namedUsers(kind)[0]?.[1];
}

/** The decision's optional fields, in the order the Rust host writes them; instants marked. */
const OPTIONAL = [
  ['license', false], ['expiresAt', true], ['inspectionsFeatures', false], ['record', false],
  ['callingCode', false], ['violations', false], ['billingEndsAt', true], ['detail', false],
];

/** The JSON object `turnstile run` prints for event number `index`. */
export function decisionLine(index, event, decision) {
  const { kind } = event;
  const line = { event: index, kind: snake(kind.tag) };
  const who = subject(kind);
  if (who !== undefined) line.user = who;
  if (kind.tag === 'delete-group') line.group = kind.val.group;
  line.allow = decision.allow;
  line.code = snake(decision.code).toUpperCase();
  line.message = decision.message;
  line.rule = decision.rule;
  for (const [key, isInstant] of OPTIONAL) {
    const value = decision[key];
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) continue;
    line[snake(key)] = isInstant ? formatInstant(value) : value;
  }
  line.effects = decision.effects.map(effectJson);
  return line;
}

/** `Org.load` refused a state; `problems` lists every problem found. */
export class StateError extends Error {
  constructor(problems) {
    super(`inconsistent state:\n  ${problems.map((p) => `${p.field}: ${p.message}`).join('\n  ')}`);
    this.problems = problems;
  }
}

/** `engine.Org.load(state)`, with a refusal thrown as a StateError. */
export function load(engine, state) {
  try {
    return engine.Org.load(state);
  } catch (e) {
    if (Array.isArray(e?.payload)) throw new StateError(e.payload);
    throw e;
  }
}

const dispose = Symbol.dispose ?? Symbol.for('dispose');

/**
 * Loads the state, steps every event in order and returns one decision line per event.
 * A state `load` refuses is a ScenarioError listing every problem in the scenario's terms
 * (`org.plan` for the WIT's `settings.plan`), as the Rust host says it.
 */
export function run(engine, scenario) {
  let org;
  try {
    org = load(engine, scenario.state);
  } catch (e) {
    if (!(e instanceof StateError)) throw e;
    const field = (f) => (f.startsWith('settings') ? `org${f.slice('settings'.length)}` : f);
    throw new ScenarioError(`inconsistent state:\n  ${e.problems.map((p) => `${field(p.field)}: ${p.message}`).join('\n  ')}`);
  }
  try {
    return scenario.events.map((e, i) => decisionLine(i, e, org.step(e)));
  } finally {
    org[dispose]?.();
  }
}
