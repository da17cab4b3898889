//! Conformance: every vector in `tests/conformance/` is replayed through the
//! policy component (wasmtime) and through the natively compiled rules, and
//! both must print exactly the expected decision lines.
//!
//! A vector is `NAME.json` (a scenario file, runnable with `turnstile run`)
//! beside `NAME.expected.jsonl` (one decision per event, worked out from
//! rules.md). Python and JavaScript replay the same files (`bindings/`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use turnstile::{Evaluator, Options, Policy};

fn vectors() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/conformance exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vectors in {}", dir.display());
    files
}

fn expected(vector: &Path) -> Vec<Value> {
    let path = vector.with_extension("expected.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1)))
        .collect()
}

/// The first difference between two decision lines, as `path: got vs expected`.
fn first_difference(path: &str, got: &Value, want: &Value) -> Option<String> {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let keys: BTreeSet<&String> = g.keys().chain(w.keys()).collect();
            keys.into_iter().find_map(|k| match (g.get(k), w.get(k)) {
                (Some(a), Some(b)) => first_difference(&format!("{path}.{k}"), a, b),
                (a, b) => Some(format!("{path}.{k}: got {a:?}, expected {b:?}")),
            })
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => {
            g.iter().zip(w).enumerate().find_map(|(i, (a, b))| first_difference(&format!("{path}[{i}]"), a, b))
        }
        _ if got == want => None,
        _ => Some(format!("{path}: got {got}, expected {want}")),
    }
}

fn replay(evaluator: &Evaluator, name: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for vector in vectors() {
        let file = vector.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&vector).unwrap();
        let mut got = Vec::new();
        turnstile::run::run(evaluator, &text, &file, |_, line| {
            got.push(line.unwrap_or_else(|e| panic!("{file}: {e}")));
            std::ops::ControlFlow::Continue(())
        })
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        let want = expected(&vector);
        if got.len() != want.len() {
            failures.push(format!("{name} {file}: {} decisions, expected {}", got.len(), want.len()));
            continue;
        }
        for (i, (line, want)) in got.iter().zip(&want).enumerate() {
            let got: Value = serde_json::from_str(line).unwrap();
            if let Some(diff) = first_difference("", &got, want) {
                failures.push(format!("{name} {file} event {i}: {diff}"));
                break;
            }
        }
    }
    failures
}

#[test]
fn vectors_replay_through_the_component() {
    let failures = replay(&Evaluator::Component(Policy::embedded(&Options::default()).unwrap()), "component");
    assert!(failures.is_empty(), "{} vectors differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn vectors_replay_through_the_native_rules() {
    let failures = replay(&Evaluator::Native, "native");
    assert!(failures.is_empty(), "{} vectors differ:\n{}", failures.len(), failures.join("\n"));
}

/// Every rule of rules.md (second edition) that decides events, one list
/// per domain. F7 decides nothing of its own (allowed F3/F4 decisions carry
/// `presented_as`, checked below); O2 and O3 are queries, tested in
/// `tests/component.rs` and `tests/cli.rs` (`turnstile status`).
const RULES: &[&str] = &[
    "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9", "L10", "L11", "L12", "L13", "L14",
    "S1", "S2", "S3", "S4", "S5",
    "A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8",
    "F1", "F2", "F3", "F4", "F5", "F6",
    "O1",
    "E1",
];

/// Rules a vector may be named after besides [`RULES`].
const OTHER_RULES: &[&str] = &["F7"];

/// Every code of rules.md; UNKNOWN_USER comes from a user whose
/// `create_user` was refused (a scenario naming a user it never has is
/// refused by `turnstile run` before deciding).
const CODES: &[&str] = &[
    "OK", "LICENSE_NOT_FOUND", "LICENSE_EXPIRED", "NO_LICENSE_AVAILABLE",
    "SEAT_LIMIT_REACHED", "PASSWORD_REQUIRED", "ACCOUNT_INACTIVE", "ACCOUNT_BLOCKED",
    "ACCOUNT_DELETED", "ALREADY_LOGGED_IN", "SESSION_IN_USE", "NOT_PERMITTED",
    "PASSWORD_TOO_WEAK", "INVALID_USER", "GROUP_NOT_EMPTY", "GROUP_PROTECTED",
    "NO_SIP_ACCOUNT", "FEATURE_NOT_IN_PLAN", "FEATURE_DISABLED", "COUNTRY_NOT_ALLOWED",
    "INVALID_NUMBER", "UNKNOWN_USER", "NOT_AVAILABLE_IN_TRIAL", "INVALID_GROUP", "INVALID_SETTINGS",
];

/// Every rule and every code is exercised by at least one vector.
#[test]
fn vectors_cover_every_rule_and_code() {
    let mut rules = BTreeSet::new();
    let mut codes = BTreeSet::new();
    let mut presented = BTreeSet::new();
    for vector in vectors() {
        for line in expected(&vector) {
            rules.insert(line["rule"].as_str().unwrap_or_default().to_string());
            codes.insert(line["code"].as_str().unwrap_or_default().to_string());
            if line["presented_as"].is_string() {
                presented.insert(line["kind"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    // F7: an allowed outbound call and SMS each show a presentation somewhere.
    assert_eq!(presented.into_iter().collect::<Vec<_>>(), ["call", "sms"], "F7's presented_as is not covered");
    let missing: Vec<&str> = RULES.iter().copied().filter(|r| !rules.contains(*r)).collect();
    assert!(missing.is_empty(), "no vector decides by {missing:?}");
    let missing: Vec<&str> = CODES.iter().copied().filter(|c| !codes.contains(*c)).collect();
    assert!(missing.is_empty(), "no vector returns {missing:?}");
}

/// Every vector says what it checks: an `about` naming the rule its file
/// name starts with (or the seed whose example it replays).
#[test]
fn every_vector_names_its_rule_and_source() {
    for vector in vectors() {
        let name = vector.file_stem().unwrap().to_string_lossy().to_string();
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&vector).unwrap()).unwrap();
        let about = json["about"].as_str().unwrap_or_else(|| panic!("{name}: no `about`"));
        let prefix = name.split('_').next().unwrap();
        let names = if let Some(seed) = prefix.strip_prefix("seed") { format!("seed {seed}") } else { prefix.to_string() };
        assert!(about.contains(&names), "{name}: the about doesn't name {names}: {about}");
        assert!(about.contains("seed") || about.contains("rules.md"), "{name}: the about names no source: {about}");
        if !prefix.starts_with("seed") {
            assert!(RULES.contains(&prefix) || OTHER_RULES.contains(&prefix), "{name}: {prefix} is not a rule id");
        }
    }
}
