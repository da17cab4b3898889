//! Random and mutated bytes at every reader and every entry point of the
//! policy: the scenario reader, the organisation reader (with `--set`
//! changes), the licence CSV reader, and, through the host library, the
//! component's own readers, loads, decisions and writers, each compared
//! with the natively linked rules.
//!
//! A case fails on a panic, a hang (a call into the component past its
//! deadline; a native case past [`HANG`]), an error without a place (every
//! diagnostic carries FILE:LINE:COLUMN, or a field path), an error of the
//! wrong kind (a component failure or a limit where the input is at fault),
//! or the component and the native rules disagreeing.
//!
//! Deterministic: case `i` of seed `s` is always the same input. The number
//! of cases is `TURNSTILE_FUZZ_CASES` (default [`CASES`]), the seed
//! `TURNSTILE_FUZZ_SEED` (default [`SEED`]); one case alone is
//! `TURNSTILE_FUZZ_CASE=i`. A failure prints the seed and the case.
//!
//! ```sh
//! TURNSTILE_FUZZ_CASES=2000000 TURNSTILE_FUZZ_SEED=$RANDOM cargo test --release --test fuzz -- --nocapture
//! ```

use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use turnstile::model::{Channel, Diagnostic};
use turnstile::{Error, ErrorKind, Evaluator, Limits, Options, Policy};
use turnstile_policy::listing::Listing;

/// Cases run by default: what CI runs.
const CASES: usize = 200_000;

/// The default seed.
const SEED: u64 = 0x7475_726e_7374_696c; // "turnstil"

/// A native case running longer than this is a hang (the inputs are a few
/// KiB; a case takes microseconds).
const HANG: Duration = Duration::from_secs(60);

// ------------------------------------------------------------------ randomness

/// SplitMix64: small, well known, and every case can start its own stream.
struct Rng(u64);

impl Rng {
    fn for_case(seed: u64, case: usize) -> Rng {
        let mut rng = Rng(seed ^ (case as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next();
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ------------------------------------------------------------------ inputs

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// What the mutations start from: every shipped scenario and vector, the
/// organisation file and the `org` of each scenario, the licence files.
struct Corpus {
    scenarios: Vec<Vec<u8>>,
    orgs: Vec<Vec<u8>>,
    csvs: Vec<Vec<u8>>,
}

fn corpus() -> Corpus {
    let mut scenarios = Vec::new();
    for dir in ["examples", "tests/conformance"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        scenarios.extend(paths.iter().map(|p| std::fs::read(p).unwrap()));
    }
    let mut orgs = vec![std::fs::read(root().join("examples/org.json")).unwrap(), b"{}".to_vec()];
    for s in &scenarios {
        if let Ok(serde_json::Value::Object(o)) = serde_json::from_slice::<serde_json::Value>(s) {
            if let Some(org) = o.get("org") {
                orgs.push(serde_json::to_vec_pretty(org).unwrap());
            }
        }
    }
    let mut csvs: Vec<Vec<u8>> =
        ["examples/licenses.csv", "examples/users.csv"].iter().map(|p| std::fs::read(root().join(p)).unwrap()).collect();
    // A users listing with every optional column, in another order, CRLF line ends.
    csvs.push(
        b"\"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\",\"External\",\"Temporary Since\",\"Assigned At\",\"Last Sync\"\r\n\
\"a\",\"Ann, A.\",\"a@x\",\"Assigned\",\"\",\"false\",\"\",\"2026-01-01T00:00:00Z\",\"2026-11-01T00:00:00Z\"\r\n\
\"b\",\"B \"\"Bee\"\"\",\"b@x\",\"Disabled\",\"Assigned\",\"\",\"\",\"2026-02-01T00:00:00Z\",\"\"\r\n\
\"c\",\"C\",\"c@x\",\"Unassigned\",\"\",\"true\",\"2026-11-10T00:00:00Z\",\"\",\"\"\r\n"
            .to_vec(),
    );
    Corpus { scenarios, orgs, csvs }
}

/// Bytes and texts that readers treat specially.
const TOKENS: &[&str] = &[
    "null", "true", "false", "0", "-0", "1e999", "-1", "4294967296", "18446744073709551616", "9223372036854775807",
    "0.5", "\"\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\uDBFF\\uDFFF\"", "\"\\\"", "[]", "{}", "[[[[[[[[", "]]]]", "{\"\":",
    ",", ":", "\"kind\":\"sync\"", "\"user\":", "\"at\":\"2026-11-22T10:00:00Z\"", "\"2026-02-29T00:00:00Z\"",
    "\"2026-11-31T10:00:00Z\"", "\"9999-12-31T23:59:59Z\"", "\"0000-01-01T00:00:00Z\"", "\"+48 22 113 14 15\"",
    "\"+1 242\"", "\"00\"", "\"assigned\"", "\"disabled\"", "\"position\"", "\"main_admin\":true", "\"parent\":\"g\"",
    "\"Assigned\"", "\"Disabled\"", "\"Unassigned\"", "\"\"\"", "\r\n", "\r", "\n\n\n", "\u{feff}", "\u{0}", "é", "😀",
    "\u{202e}", ",,,,,,,,", "\"a\",\"b\"", "\"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\"\n",
];

/// 1 to 8 mutations of `input`, some borrowing from `others`.
fn mutate(rng: &mut Rng, input: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = input.to_vec();
    let times = if rng.chance(2) { 1 } else { 1 + rng.below(8) };
    for _ in 0..times {
        let len = bytes.len();
        let at = if len == 0 { 0 } else { rng.below(len + 1) };
        match rng.below(9) {
            0 if len > 0 => bytes[at.min(len - 1)] ^= 1 << rng.below(8),
            1 if len > 0 => bytes[at.min(len - 1)] = rng.next() as u8,
            2 => {
                let n = 1 + rng.below(8);
                let fresh: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                bytes.splice(at..at, fresh);
            }
            3 if len > 0 => {
                let end = (at + 1 + rng.below(64)).min(len);
                bytes.drain(at.min(end)..end);
            }
            4 if len > 0 => {
                let from = rng.below(len);
                let end = (from + 1 + rng.below(256)).min(len);
                let piece = bytes[from..end].to_vec();
                bytes.splice(at..at, piece);
            }
            5 if !others.is_empty() => {
                let other = rng.pick(others);
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let end = (from + 1 + rng.below(512)).min(other.len());
                    let cut = (at + rng.below(64)).min(bytes.len());
                    bytes.splice(at..cut, other[from..end].iter().copied());
                }
            }
            6 => bytes.truncate(at),
            _ => {
                let token = rng.pick(TOKENS).as_bytes();
                let cut = if rng.chance(2) { (at + rng.below(16)).min(bytes.len()) } else { at };
                bytes.splice(at..cut, token.iter().copied());
            }
        }
    }
    bytes
}

/// Values a JSON-aware mutation puts in place of another.
const VALUES: &[&str] = &[
    "null", "true", "false", "0", "1", "-1", "3", "28", "29", "31", "32", "255", "256", "65535", "4294967295",
    "4294967296", "-9223372036854775808", "1.5", "1e3", "\"\"", "\" \"", "\"u1\"", "\"admin\"", "\"position\"",
    "\"basic\"", "\"reach\"", "\"record\"", "\"48\"", "\"+48 22 113 14 15\"", "\"0048221131415\"", "\"+1 242 555 0100\"",
    "\"2026-11-22T10:00:00Z\"", "\"2026-02-29T10:00:00Z\"", "\"2028-02-29T23:59:59Z\"", "\"1970-01-01T00:00:00Z\"",
    "\"9999-12-31T23:59:59Z\"", "\"2026-11-22T10:00:00+02:00\"", "\"sync\"", "\"login\"", "\"delete_group\"",
    "\"create_user\"", "\"set_plan\"", "\"call\"", "\"assigned\"", "\"disabled\"", "\"unassigned\"", "\"inspections\"",
    "\"standard\"", "\"web\"", "\"mobile\"", "\"both\"", "\"calls\"", "\"sms\"", "\"user\"", "\"permission\"",
    "\"inbound\"", "\"blocked\"", "\"deleted\"", "[]", "{}", "[\"calls\",\"sms\"]", "{\"enabled\":true,\"allowed\":[\"49\"]}",
];

/// Mutates a JSON document as a tree: a value replaced, a member removed,
/// a list item repeated, a member moved between objects. The result is
/// JSON (so the readers get past the syntax to the meaning).
fn mutate_json(rng: &mut Rng, input: &[u8]) -> Option<Vec<u8>> {
    let mut doc: serde_json::Value = serde_json::from_slice(input).ok()?;
    // The document's own strings and numbers, to put elsewhere (ids, instants).
    let mut pool = Vec::new();
    scalars(&doc, &mut pool);
    for _ in 0..1 + rng.below(3) {
        // A random node: a random path down from the top.
        let mut path = Vec::new();
        let mut here = &doc;
        for _ in 0..rng.below(6) {
            let len = match here {
                serde_json::Value::Array(items) => items.len(),
                serde_json::Value::Object(members) => members.len(),
                _ => 0,
            };
            if len == 0 {
                break;
            }
            let i = rng.below(len);
            path.push(i);
            here = match here {
                serde_json::Value::Array(items) => &items[i],
                serde_json::Value::Object(members) => members.values().nth(i).unwrap(),
                _ => unreachable!(),
            };
        }
        let node = node_at(&mut doc, &path);
        let choice = rng.below(4);
        match node {
            serde_json::Value::Array(items) if choice == 0 && !items.is_empty() => {
                let i = rng.below(items.len());
                let copy = items[i].clone();
                items.insert(rng.below(items.len() + 1), copy);
            }
            serde_json::Value::Array(items) if choice == 1 && !items.is_empty() => {
                items.remove(rng.below(items.len()));
            }
            serde_json::Value::Object(members) if choice <= 1 && !members.is_empty() => {
                let i = rng.below(members.len());
                let key = members.keys().nth(i).unwrap().clone();
                members.remove(&key);
            }
            node if !pool.is_empty() && rng.chance(2) => *node = rng.pick(&pool).clone(),
            node => *node = serde_json::from_str(*rng.pick(VALUES)).unwrap(),
        }
    }
    Some(if rng.chance(2) { serde_json::to_vec_pretty(&doc).unwrap() } else { serde_json::to_vec(&doc).unwrap() })
}

/// Every string and number in `value`.
fn scalars(value: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|v| scalars(v, out)),
        serde_json::Value::Object(members) => members.values().for_each(|v| scalars(v, out)),
        serde_json::Value::String(_) | serde_json::Value::Number(_) => out.push(value.clone()),
        _ => {}
    }
}

/// The node at `path` (positions in lists and objects) under `value`.
fn node_at<'v>(value: &'v mut serde_json::Value, path: &[usize]) -> &'v mut serde_json::Value {
    match path.split_first() {
        None => value,
        Some((&i, rest)) => match value {
            serde_json::Value::Array(items) => node_at(&mut items[i], rest),
            serde_json::Value::Object(members) => node_at(members.values_mut().nth(i).unwrap(), rest),
            _ => value,
        },
    }
}

/// A case's input: a corpus entry mutated as JSON or as bytes, sometimes random bytes.
fn input(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    if rng.chance(2) {
        let base = rng.pick(corpus);
        if let Some(bytes) = mutate_json(rng, base) {
            return bytes;
        }
    }
    if rng.chance(20) {
        let n = rng.below(300);
        let alphabet = b"{}[]\":,0123456789-.eE truefalsn\\u\n\r\tAa\"Id,";
        return (0..n).map(|_| if rng.chance(4) { rng.next() as u8 } else { *rng.pick(alphabet) }).collect();
    }
    let base = rng.pick(corpus);
    mutate(rng, base, corpus)
}

/// `--set` changes, well-formed and not.
fn sets(rng: &mut Rng) -> Vec<String> {
    const SETS: &[&str] = &[
        "auto_assign=true", "auto_free=false", "licenses.standard=50", "licenses.inspections=-1", "licenses={}",
        "licenses.external=yes", "inactive_days=60", "inactive_days=1e3", "plan=reach", "plan=gold", "plans=[]",
        "home_country_code=49", "home_country_code=4444", "billing_day=31", "billing_day=0", "max_active_users=null",
        "max_active_users=3", "trial", "=", "a.b.c=1", "licenses.standard.x=1", "idle_logout_minutes=\"30\"",
        "temporary_days=4294967296", "plans=[{\"name\":\"x\",\"feature_sets\":[\"calls\"]}]", "",
    ];
    (0..rng.below(4))
        .map(|_| {
            let set = rng.pick(SETS).to_string();
            if rng.chance(5) { String::from_utf8_lossy(&mutate(rng, set.as_bytes(), &[])).into_owned() } else { set }
        })
        .collect()
}

// ------------------------------------------------------------------ checks

/// How far the cases got, for the summary: inputs that read, events decided.
static SCENARIOS_READ: AtomicUsize = AtomicUsize::new(0);
static EVENTS_COMPARED: AtomicUsize = AtomicUsize::new(0);
static ORGS_READ: AtomicUsize = AtomicUsize::new(0);
static CSVS_READ: AtomicUsize = AtomicUsize::new(0);
static USERS_COMPARED: AtomicUsize = AtomicUsize::new(0);

/// A failure of one case: what broke.
type Outcome = Result<(), String>;

/// Every diagnostic names its file and a place in it: a line and column,
/// or a field path; a line within the text. A `--set` change is its own
/// place (`--set KEY=VALUE: ...`).
fn located(diagnostics: &[Diagnostic], source: &str, text: &str) -> Outcome {
    if diagnostics.is_empty() {
        return Err("an error without any diagnostic".into());
    }
    let lines = text.split('\n').count() as u32;
    for d in diagnostics {
        let flag = d.source.starts_with("--set");
        let placed = (d.line >= 1 && d.column >= 1) || !d.path.is_empty() || flag;
        if d.source != source && !flag {
            return Err(format!("a diagnostic of another file: {d:?}"));
        }
        if !placed || d.message.is_empty() {
            return Err(format!("an unlocated diagnostic: {d:?}"));
        }
        if d.source == source && d.line > lines {
            return Err(format!("line {} of a text of {lines} lines: {d:?}", d.line));
        }
    }
    Ok(())
}

/// An error from the host library about an input: kind Input, every
/// diagnostic located (or a message that starts with the file's name).
fn input_error(e: &Error, source: &str, text: &str) -> Outcome {
    if e.kind() != ErrorKind::Input {
        return Err(format!("a {:?} error where the input is at fault: {e}", e.kind()));
    }
    if e.input_diagnostics().is_empty() {
        return if e.to_string().starts_with(source) { Ok(()) } else { Err(format!("an unlocated error: {e}")) };
    }
    located(e.input_diagnostics(), source, text)
}

/// Every line (or error, as text) of a run, and how it ended.
fn run_all(evaluator: &Evaluator, text: &str, source: &str) -> (Vec<Result<String, String>>, Result<(), Error>) {
    let mut lines = Vec::new();
    let ended = turnstile::run::run(evaluator, text, source, |_, line| {
        lines.push(line.map_err(|e| e.to_string()));
        ControlFlow::Continue(())
    })
    .map(|_| ());
    (lines, ended)
}

/// A scenario: read natively and through the component, which must agree;
/// when it reads, every event decided by both, line for line.
fn scenario_case(component: &Evaluator, bytes: &[u8], through_component: bool) -> Outcome {
    let source = "fuzz.json";
    let text = String::from_utf8_lossy(bytes);
    let native = turnstile_policy::scenario::parse(&text, source);
    if let Err(d) = &native {
        let d: Vec<Diagnostic> = postcard::from_bytes(&postcard::to_allocvec(d).unwrap()).unwrap();
        located(&d, source, &text)?;
    }
    if native.is_ok() {
        SCENARIOS_READ.fetch_add(1, Ordering::Relaxed);
    }
    if !through_component {
        if let Ok(scenario) = native {
            // Natively, every event stepped and written.
            let mut org = turnstile_policy::Org::load(scenario.state).map_err(|p| format!("read but not loaded: {p:?}"))?;
            for (i, event) in scenario.events.iter().enumerate() {
                let decision = org.step(event);
                turnstile_policy::scenario::render_decision(i as u32, event, &decision);
            }
            turnstile_policy::scenario::render_state(&org.snapshot());
        }
        return Ok(());
    }
    let (native_lines, native_end) = run_all(&Evaluator::Native, &text, source);
    let (lines, end) = run_all(component, &text, source);
    match (&native_end, &end) {
        (Err(n), Err(c)) => {
            input_error(c, source, &text)?;
            if n.to_string() != c.to_string() {
                return Err(format!("refused differently:\n native: {n}\n component: {c}"));
            }
        }
        (Ok(()), Ok(())) => {}
        _ => return Err(format!("native {native_end:?}, component {end:?}")),
    }
    if lines != native_lines {
        return Err(format!("decided differently:\n native: {native_lines:?}\n component: {lines:?}"));
    }
    if let Some(Err(e)) = lines.iter().find(|l| l.is_err()) {
        return Err(format!("an event failed: {e}"));
    }
    EVENTS_COMPARED.fetch_add(lines.len(), Ordering::Relaxed);
    if native_end.is_ok() {
        // The other entry points on the same organisation: load, the whole
        // batch of events, the state and the usage after, the state written.
        let mut answers = Vec::new();
        for evaluator in [&Evaluator::Native, component] {
            answers.push(entry_points(evaluator, &text, source).map_err(|e| format!("{:?} error: {e}", e.kind()))?);
        }
        if answers[0] != answers[1] {
            return Err(format!("answered differently:\n native: {}\n component: {}", answers[0], answers[1]));
        }
    }
    Ok(())
}

/// A scenario that reads, through `evaluator`'s other entry points.
fn entry_points(evaluator: &Evaluator, text: &str, source: &str) -> Result<String, Error> {
    let mut instance = evaluator.instance()?;
    let scenario = instance.parse_scenario(text, source)?;
    let org = instance.load(&scenario.state, source)?;
    let at = scenario.events.last().map_or(0, |e| e.at);
    let before = instance.usage(org, at)?;
    let first = scenario.events.first();
    let decided = first.map(|e| instance.decide(org, e)).transpose()?;
    let outcomes = instance.step_batch(org, &scenario.events)?;
    let state = instance.snapshot(org)?;
    let written = instance.render_state(&state)?;
    let after = instance.usage(org, at)?;
    let count = instance.user_count(org)?;
    let population = instance.population(org, 0, count)?;
    // The state written reads back as the same state.
    let again = instance.parse_scenario(&written, "state.json")?;
    if again.state != state {
        return Err(Error::policy("the state written does not read back the same"));
    }
    // Applying the first decision's effects to a fresh load: accepted.
    let fresh = instance.load(&scenario.state, source)?;
    let applied = match &decided {
        Some(d) => format!("{:?}", instance.apply(fresh, &d.effects)?),
        None => String::new(),
    };
    Ok(format!("{before:?} {decided:?} {outcomes:?} {written} {after:?} {population:?} {applied}"))
}

/// An organisation file with `--set` changes, both ways.
fn org_case(component: &Evaluator, bytes: &[u8], sets: &[String], through_component: bool) -> Outcome {
    let source = "org.json";
    let text = String::from_utf8_lossy(bytes);
    let native = Evaluator::Native.instance().unwrap().parse_org(&text, source, sets);
    match &native {
        Err(e) => input_error(e, source, &text)?,
        Ok(_) => {
            ORGS_READ.fetch_add(1, Ordering::Relaxed);
        }
    }
    if through_component {
        let read = component.instance().map_err(|e| e.to_string())?.parse_org(&text, source, sets);
        match (&native, &read) {
            (Ok(a), Ok(b)) if a == b => {}
            (Err(a), Err(b)) if a.to_string() == b.to_string() => {}
            _ => return Err(format!("read differently:\n native: {native:?}\n component: {read:?}")),
        }
    }
    Ok(())
}

/// A licence file: read whole and in random pieces (the same rows and
/// diagnostics), paged (the same users); when it reads, loaded into the
/// component and natively and every user synced, the same outcomes.
fn csv_case(rng: &mut Rng, component: &Evaluator, bytes: &[u8], through_component: bool) -> Outcome {
    let source = "fuzz.csv";
    let (whole, found) = Listing::read(bytes, source);
    let found: Vec<Diagnostic> = postcard::from_bytes(&postcard::to_allocvec(&found).unwrap()).unwrap();
    for d in &found {
        if d.source != source || d.line == 0 || d.column == 0 {
            return Err(format!("an unlocated diagnostic: {d:?}"));
        }
    }
    let mut pieces = Listing::paged(source);
    let mut pages = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = (1 + rng.below(64)).min(rest.len());
        pieces.feed(&rest[..n]);
        rest = &rest[n..];
        while let Some(p) = pieces.take_page(1 + rng.below(4)) {
            pages.push(p);
        }
    }
    let found_in_pieces: Vec<Diagnostic> = postcard::from_bytes(&postcard::to_allocvec(&pieces.finish()).unwrap()).unwrap();
    while let Some(p) = pieces.take_page(1) {
        pages.push(p);
    }
    if found_in_pieces != found {
        return Err(format!("read differently in pieces:\n whole: {found:?}\n pieces: {found_in_pieces:?}"));
    }
    let rows = whole.rows() as u32;
    let all = whole.population(0, rows);
    let texts: String = pages.iter().map(|p| p.text.as_str()).collect();
    let standard: Vec<u8> = pages.iter().flat_map(|p| p.standard.iter().copied()).collect();
    if texts != all.text || standard != all.standard || pieces.rows() != whole.rows() {
        return Err("the pages are not the rows".into());
    }
    if whole.ok() {
        CSVS_READ.fetch_add(1, Ordering::Relaxed);
    }
    if !through_component || !whole.ok() {
        return Ok(());
    }
    // Loaded under an organisation with as many licences as the rows hold.
    let mut settings = Evaluator::Native.instance().unwrap().parse_org("{}", "org", &[]).unwrap();
    (settings.licenses.standard, settings.licenses.inspections) = whole.held();
    settings.auto_assign = rng.chance(2);
    let at = 1_795_341_600 + rng.below(400 * 86_400) as i64;
    let mut outcomes = Vec::new();
    for evaluator in [&Evaluator::Native, component] {
        let mut instance = evaluator.instance().map_err(|e| e.to_string())?;
        let org = match turnstile::licenses::load(&mut instance, &whole, &settings, "org") {
            Ok(org) => org,
            Err(e) if e.kind() == ErrorKind::Input => {
                outcomes.push(format!("refused: {e}"));
                continue;
            }
            Err(e) => return Err(format!("a {:?} error loading a listing: {e}", e.kind())),
        };
        let synced = instance.sync_users(org, at, Channel::Mobile, 0, rows).map_err(|e| e.to_string())?;
        let names = instance.user_names(org, &(0..rows).collect::<Vec<_>>()).map_err(|e| e.to_string())?;
        outcomes.push(format!("{synced:?} {names:?}"));
    }
    if outcomes[0] != outcomes[1] {
        return Err(format!("decided differently:\n native: {}\n component: {}", outcomes[0], outcomes[1]));
    }
    USERS_COMPARED.fetch_add(rows as usize, Ordering::Relaxed);
    Ok(())
}

/// One case, by its number: which reader, which input.
fn case(seed: u64, i: usize, corpus: &Corpus, component: &Evaluator) -> (String, Outcome) {
    let mut rng = Rng::for_case(seed, i);
    // Most cases also go through the component (the whole run, compared).
    let through_component = !rng.chance(4);
    match rng.below(10) {
        0..=4 => {
            let bytes = input(&mut rng, &corpus.scenarios);
            let outcome = guarded(|| scenario_case(component, &bytes, through_component));
            (describe("scenario", &bytes), outcome)
        }
        5..=6 => {
            let bytes = input(&mut rng, &corpus.orgs);
            let sets = sets(&mut rng);
            let outcome = guarded(|| org_case(component, &bytes, &sets, through_component));
            (format!("{} with --set {sets:?}", describe("org", &bytes)), outcome)
        }
        _ => {
            let bytes = input(&mut rng, &corpus.csvs);
            let outcome = guarded(|| csv_case(&mut rng, component, &bytes, through_component));
            (describe("csv", &bytes), outcome)
        }
    }
}

fn describe(what: &str, bytes: &[u8]) -> String {
    format!("{what} of {} bytes: {:?}", bytes.len(), String::from_utf8_lossy(bytes))
}

/// `check`, with a panic as a failure.
fn guarded(check: impl FnOnce() -> Outcome) -> Outcome {
    std::panic::catch_unwind(AssertUnwindSafe(check)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!("panicked: {message}"))
    })
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    let value = std::env::var(name).ok()?;
    Some(value.trim().parse().unwrap_or_else(|_| panic!("{name}={value}: not a number")))
}

#[test]
fn fuzz_every_reader_and_entry_point() {
    let seed: u64 = env("TURNSTILE_FUZZ_SEED").unwrap_or(SEED);
    let cases: usize = env("TURNSTILE_FUZZ_CASES").unwrap_or(CASES);
    let only: Option<usize> = env("TURNSTILE_FUZZ_CASE");
    let corpus = corpus();
    // A short deadline: a case's input is a few KiB, decided in microseconds.
    let limits = Limits { deadline: Duration::from_secs(5), ..Limits::default() };
    let options = Options { limits, cache: true, expect_sha256: None };
    let component = Evaluator::Component(Policy::embedded(&options).unwrap());
    let range: Vec<usize> = match only {
        Some(i) => vec![i],
        None => (0..cases).collect(),
    };
    eprintln!("fuzz: seed {seed}, {} cases (TURNSTILE_FUZZ_SEED, TURNSTILE_FUZZ_CASES)", range.len());

    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    // Each worker's current case and when it started, for the watchdog.
    let running: Mutex<Vec<Option<(usize, Instant)>>> = Mutex::new(vec![None; threads]);
    let done = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for worker in 0..threads {
            let (next, failures, running, range, corpus, component, done) =
                (&next, &failures, &running, &range, &corpus, &component, &done);
            s.spawn(move || {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = range.get(k) else { break };
                    running.lock().unwrap()[worker] = Some((i, Instant::now()));
                    let (input, outcome) = std::panic::catch_unwind(AssertUnwindSafe(|| case(seed, i, corpus, component)))
                        .unwrap_or_else(|_| ("(making the input)".into(), Err("panicked making the input".into())));
                    running.lock().unwrap()[worker] = None;
                    if let Err(why) = outcome {
                        let mut input = input;
                        if input.len() > 2_000 {
                            input = format!("{}...", &input[..input.floor_char_boundary(2_000)]);
                        }
                        let report = format!(
                            "case {i} (TURNSTILE_FUZZ_SEED={seed} TURNSTILE_FUZZ_CASE={i}): {why}\n  input: {input}"
                        );
                        eprintln!("fuzz: {report}");
                        failures.lock().unwrap().push(report);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        // The watchdog: a native case that runs for a minute is a hang.
        s.spawn(|| {
            while done.load(Ordering::Relaxed) < range.len() {
                std::thread::sleep(Duration::from_millis(200));
                for (i, since) in running.lock().unwrap().iter().flatten() {
                    if since.elapsed() > HANG {
                        eprintln!("fuzz: case {i} (TURNSTILE_FUZZ_SEED={seed} TURNSTILE_FUZZ_CASE={i}) hangs");
                        std::process::abort();
                    }
                }
            }
        });
    });
    let took = started.elapsed().as_secs_f64();
    eprintln!(
        "fuzz: {} cases in {took:.1} s ({:.0} a second, {threads} threads), seed {seed}",
        range.len(),
        range.len() as f64 / took
    );
    eprintln!(
        "fuzz: read whole: {} scenarios, {} organisations, {} licence files; compared with the component: {} events decided, {} users synced",
        SCENARIOS_READ.load(Ordering::Relaxed),
        ORGS_READ.load(Ordering::Relaxed),
        CSVS_READ.load(Ordering::Relaxed),
        EVENTS_COMPARED.load(Ordering::Relaxed),
        USERS_COMPARED.load(Ordering::Relaxed),
    );
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} of {} cases failed; the first:\n{}", failures.len(), range.len(), failures[0]);
}

// ------------------------------------------------------------------ the checks themselves

#[test]
fn the_checks_catch_what_they_are_for() {
    // A panic is a failure, not a crash of the run.
    assert_eq!(guarded(|| panic!("boom")), Err("panicked: boom".to_string()));
    // A diagnostic without a place, or of another file, or past the end.
    let d = |source: &str, line: u32, column: u32, path: &str| Diagnostic {
        source: source.into(),
        line,
        column,
        path: path.into(),
        severity: turnstile::model::Severity::Error,
        message: "bad".into(),
    };
    assert!(located(&[d("f.json", 1, 3, "")], "f.json", "{}").is_ok());
    assert!(located(&[d("f.json", 0, 0, "users[0]")], "f.json", "{}").is_ok());
    assert!(located(&[d("--set x=1", 0, 0, "")], "f.json", "{}").is_ok());
    assert!(located(&[d("f.json", 0, 0, "")], "f.json", "{}").is_err());
    assert!(located(&[d("g.json", 1, 1, "")], "f.json", "{}").is_err());
    assert!(located(&[d("f.json", 3, 1, "")], "f.json", "{\n}").is_err());
    assert!(located(&[], "f.json", "{}").is_err());
    // A limit or a defect where the input is at fault.
    assert!(input_error(&Error::limit("deadline"), "f.json", "").is_err());
    assert!(input_error(&Error::policy("trap"), "f.json", "").is_err());
    // The same case is the same input, whoever runs it.
    let corpus = corpus();
    let mut a = Rng::for_case(SEED, 7);
    let mut b = Rng::for_case(SEED, 7);
    assert_eq!(input(&mut a, &corpus.scenarios), input(&mut b, &corpus.scenarios));
}
