//! The sandbox, proved with hostile components built here from the real one
//! (`hostile/`): every call into the policy bounded (a deadline, a memory
//! cap), every failure contained to the event it happened on, the host
//! shared across threads, every output accounted for, every input bounded,
//! output files written whole. Through the host library and the CLI.

mod hostile;

use std::io::{Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use hostile::{Action, Place, UNASSIGN};
use turnstile::model::OrgState;
use turnstile::{Error, ErrorKind, Evaluator, Limits, Options, Org, Policy};

// ------------------------------------------------------------------ helpers

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const LICENSING: &str = "examples/licensing.json";

/// A deadline short enough for tests that wait for it.
const SHORT: Duration = Duration::from_millis(200);

fn limits(deadline: Duration, max_memory_mib: usize) -> Limits {
    Limits { deadline, max_memory: max_memory_mib << 20 }
}

fn options(limits: Limits) -> Options {
    Options { limits, cache: false, expect_sha256: None }
}

/// A hostile component (built once per test binary), as bytes.
fn build(place: Place, action: Action) -> Vec<u8> {
    hostile::component(place, action)
}

fn policy(bytes: &[u8], limits: Limits) -> Policy {
    Policy::from_bytes(bytes, "hostile.wasm", &options(limits)).expect("a hostile component has the right types")
}

fn embedded() -> Evaluator {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    Evaluator::Component(POLICY.get_or_init(|| Policy::embedded(&options(Limits::default())).unwrap()).clone())
}

/// Every line (or error) a run hands over, by event, and how the run ended.
fn run_lines(evaluator: &Evaluator, text: &str, source: &str) -> (Vec<(usize, Result<String, Error>)>, Result<(), Error>) {
    let mut lines = Vec::new();
    let ended = turnstile::run::run(evaluator, text, source, |i, line| {
        lines.push((i, line));
        ControlFlow::Continue(())
    })
    .map(|_| ());
    (lines, ended)
}

/// The decision lines of the real component for `text`.
fn real_lines(text: &str) -> Vec<String> {
    let (lines, ended) = run_lines(&embedded(), text, "real.json");
    ended.unwrap();
    lines.into_iter().map(|(_, l)| l.unwrap()).collect()
}

/// `text` without event `i` (every other event and the state as they are).
fn without_event(text: &str, i: usize) -> String {
    let mut scenario: serde_json::Value = serde_json::from_str(text).unwrap();
    scenario["events"].as_array_mut().unwrap().remove(i);
    serde_json::to_string(&scenario).unwrap()
}

/// A decision line renumbered as event `i`.
fn renumbered(line: &str, i: usize) -> String {
    let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
    v["event"] = i.into();
    serde_json::to_string(&v).unwrap()
}

/// A directory of its own for each test, removed at the end.
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("turnstile-sandbox-").tempdir().unwrap()
}

/// The compiled-code cache the CLI runs of these tests share (in the
/// target directory, not the user's cache: hostile components go there).
fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sandbox-cache")
}

fn cli() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_turnstile"));
    command.current_dir(root()).env("TURNSTILE_CACHE_DIR", cache_dir()).stdin(Stdio::null());
    command
}

/// The CLI with `args`, its data segment limited to `mib` MiB
/// (RLIMIT_DATA: the heap, and every writable private mapping such as a
/// component's linear memory): a command that stays within it is proved
/// to; one that needed more fails. (The peak memory wait4 reports would
/// include this test process's own, which the child shares until it execs.)
fn within(mib: u64, args: &[&str]) -> Output {
    cli_after(&format!("ulimit -d {}", mib << 10), args)
}

/// The CLI with `args`, started by a shell after `setup` (a `ulimit`, a `umask`).
fn cli_after(setup: &str, args: &[&str]) -> Output {
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(format!("{setup} && exec \"$@\""))
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_turnstile"))
        .args(args)
        .current_dir(root())
        .env("TURNSTILE_CACHE_DIR", cache_dir())
        .stdin(Stdio::null());
    output(&mut command)
}

fn output(command: &mut Command) -> Output {
    command.stdout(Stdio::piped()).stderr(Stdio::piped()).output().expect("turnstile starts")
}

/// Writes a hostile component into `dir` and returns its path.
fn write_component(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

fn lines(out: &Output) -> Vec<String> {
    text(&out.stdout).lines().map(String::from).collect()
}

// ------------------------------------------------------------------ the builder

#[test]
fn the_builder_alone_changes_nothing() {
    let unchanged = policy(&hostile::unchanged(), Limits::default());
    let scenario = read(LICENSING);
    let (lines, ended) = run_lines(&Evaluator::Component(unchanged), &scenario, LICENSING);
    ended.unwrap();
    let lines: Vec<String> = lines.into_iter().map(|(_, l)| l.unwrap()).collect();
    assert_eq!(lines, real_lines(&scenario));
}

// ------------------------------------------------------------------ limits, through the library

#[test]
fn an_endless_loop_in_step_stops_at_the_deadline_and_names_the_event() {
    let bytes = build(hostile::org_method("step", Some(UNASSIGN)), Action::Loop);
    let evaluator = Evaluator::Component(policy(&bytes, limits(SHORT, 1024)));
    let scenario = read(LICENSING);
    let (lines, ended) = run_lines(&evaluator, &scenario, LICENSING);
    ended.unwrap();
    assert_eq!(lines.len(), 7, "every event is reported");
    let (i, failed) = &lines[5];
    let e = failed.as_ref().expect_err("event 5 (an unassign) loops");
    assert_eq!((*i, e.kind(), e.exit_code()), (5, ErrorKind::Limit, 4));
    let message = e.to_string();
    for part in [
        "examples/licensing.json: events[5] (unassign of `10ac88c8-2226-4a98-ae0c-b7f57df0c4d3`)",
        "deadline of 0.2 s per call",
        "--deadline",
    ] {
        assert!(message.contains(part), "`{part}` not in: {message}");
    }
}

#[test]
fn endless_memory_growth_stops_at_the_memory_cap() {
    let bytes = build(hostile::org_method("step", Some(hostile::SYNC)), Action::GrowForever);
    let evaluator = Evaluator::Component(policy(&bytes, limits(Limits::DEFAULT_DEADLINE, 48)));
    let scenario = read(LICENSING);
    let (lines, ended) = run_lines(&evaluator, &scenario, LICENSING);
    ended.unwrap();
    let e = lines[0].1.as_ref().expect_err("a sync grows memory until refused");
    assert_eq!(e.kind(), ErrorKind::Limit);
    let message = e.to_string();
    for part in ["examples/licensing.json: events[0] (sync of `10ac88c8", "memory limit of 48 MiB", "--max-memory"] {
        assert!(message.contains(part), "`{part}` not in: {message}");
    }
    // The unassign and the assign are not syncs: decided.
    assert!(lines[5].1.is_ok() && lines[6].1.is_ok());
}

#[test]
fn the_default_memory_cap_is_one_gibibyte() {
    assert_eq!(Limits::default(), Limits { deadline: Duration::from_secs(10), max_memory: 1 << 30 });
    // Growing without writing costs address space, not memory: quick even at the default cap.
    let bytes = build(hostile::org_method("decide", None), Action::GrowForever);
    let evaluator = Evaluator::Component(policy(&bytes, Limits::default()));
    let scenario: turnstile::model::Scenario = evaluator.instance().unwrap().parse_scenario(&read(LICENSING), LICENSING).unwrap();
    let mut org = Org::load(&evaluator, scenario.state, "licensing").unwrap();
    let e = org.decide(&scenario.events[0]).expect_err("decide grows memory forever");
    assert_eq!(e.kind(), ErrorKind::Limit);
    assert!(e.to_string().contains("memory limit of 1024 MiB"), "{e}");
}

#[test]
fn a_trap_on_one_input_is_a_defect_of_that_event_only() {
    let bytes = build(hostile::org_method("step", Some(UNASSIGN)), Action::Trap);
    let evaluator = Evaluator::Component(policy(&bytes, Limits::default()));
    let scenario = read(LICENSING);
    let (lines, ended) = run_lines(&evaluator, &scenario, LICENSING);
    ended.unwrap();
    let e = lines[5].1.as_ref().expect_err("the unassign traps");
    assert_eq!((e.kind(), e.exit_code()), (ErrorKind::Policy, 3));
    let message = e.to_string();
    assert!(message.starts_with("examples/licensing.json: events[5] (unassign of `10ac88c8"), "{message}");
    assert!(message.contains("the policy component failed"), "{message}");
    assert!(!message.contains('\n'), "one line, not a backtrace: {message}");
}

#[test]
fn a_start_function_that_loops_stops_at_the_deadline() {
    let bytes = build(Place::Start, Action::Loop);
    let policy = policy(&bytes, limits(SHORT, 1024));
    let e = policy.instantiate().err().expect("instantiating runs the start function");
    assert_eq!(e.kind(), ErrorKind::Limit);
    assert!(e.to_string().starts_with("starting the policy component: "), "{e}");
    assert!(e.to_string().contains("deadline of 0.2 s"), "{e}");
    let (lines, ended) = run_lines(&Evaluator::Component(policy), &read(LICENSING), LICENSING);
    assert!(lines.is_empty());
    assert_eq!(ended.unwrap_err().kind(), ErrorKind::Limit);
}

#[test]
fn a_start_function_that_asks_for_gigabytes_is_refused_at_the_cap() {
    let bytes = build(Place::Start, Action::GrowHuge);
    let e = policy(&bytes, Limits::default()).instantiate().err().expect("the growth is refused and the start traps");
    assert_eq!(e.kind(), ErrorKind::Limit);
    let message = e.to_string();
    assert!(message.contains("memory limit of 1024 MiB (it asked for 3752 MiB)"), "{message}");
}

#[test]
fn a_start_function_refused_memory_that_carries_on_decides_as_the_real_one() {
    let bytes = build(Place::Start, Action::GrowHugeAndIgnore);
    let evaluator = Evaluator::Component(policy(&bytes, Limits::default()));
    let scenario = read(LICENSING);
    let (lines, ended) = run_lines(&evaluator, &scenario, LICENSING);
    ended.unwrap();
    let lines: Vec<String> = lines.into_iter().map(|(_, l)| l.unwrap()).collect();
    assert_eq!(lines, real_lines(&scenario));
}

#[test]
fn the_formats_component_runs_under_the_same_limits() {
    // The scenario reader is the embedded formats component (--policy
    // replaces only the rules); it starts in a store of its own with the
    // policy's limits: a memory cap too small for it stops it.
    let policy = policy(turnstile::policy::EMBEDDED_COMPONENT, limits(SHORT, 1));
    let e = policy.instantiate_formats().err().expect("1 MiB is too little");
    assert_eq!(e.kind(), ErrorKind::Limit);
    assert_eq!(
        e.to_string(),
        "starting the formats component: the policy component needed more than its memory limit of 1 MiB \
         (it asked for 2 MiB); raise it with --max-memory"
    );
}

// ------------------------------------------------------------------ containment, through the library

/// A scenario of `n` syncs by 50 users taking turns over 20 Standard
/// licences (auto-assign, auto-free), with an unassign at `unassign_at`.
fn long_scenario(n: usize, unassign_at: usize) -> String {
    let users: Vec<serde_json::Value> = (0..50)
        .map(|i| {
            let mut u = serde_json::json!({ "id": format!("u{i:02}") });
            if i < 20 {
                u["standard"] = "assigned".into();
                u["last_sync"] = format!("2026-0{}-01T09:00:00Z", 1 + i % 9).into();
            }
            u
        })
        .collect();
    let t0 = 1_795_341_600i64; // 2026-11-22T10:00:00Z
    let events: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let at = turnstile_policy::calendar::format_rfc3339(t0 + 86_400 * i as i64);
            if i == unassign_at {
                // The user who synced just before: a holder, most likely.
                let user = format!("u{:02}", ((i - 1) * 7) % 50);
                serde_json::json!({ "at": at, "kind": "unassign", "user": user, "license": "standard" })
            } else {
                serde_json::json!({ "at": at, "kind": "sync", "user": format!("u{:02}", (i * 7) % 50) })
            }
        })
        .collect();
    let scenario = serde_json::json!({
        "org": { "licenses": { "standard": 20 }, "auto_assign": true, "auto_free": true, "inactive_days": 30 },
        "users": users,
        "events": events,
    });
    serde_json::to_string(&scenario).unwrap()
}

/// Runs `text`'s events through an `Org` of `evaluator`: each decision
/// line (the real component writes them) or the error, and the state after.
fn org_run(evaluator: &Evaluator, text: &str) -> (Vec<Result<String, Error>>, OrgState) {
    let mut formats = embedded().instance().unwrap();
    let scenario = formats.parse_scenario(text, "org.json").unwrap();
    let mut org = Org::load(evaluator, scenario.state, "org.json").unwrap();
    let mut out = Vec::new();
    for (i, event) in scenario.events.iter().enumerate() {
        out.push(org.step(event).map(|d| formats.render_decision(i as u32, event, &d).unwrap()));
    }
    (out, org.snapshot().unwrap())
}

#[test]
fn after_a_failure_the_organisation_is_exactly_as_before_that_event() {
    // 2,500 events: the failure comes after a checkpoint (every 1,000 changes).
    let failing = 1_700;
    assert!(failing > turnstile::org::CHECKPOINT);
    let text = long_scenario(2_500, failing);
    let bytes = build(hostile::org_method("step", Some(UNASSIGN)), Action::Trap);
    let (got, state) = org_run(&Evaluator::Component(policy(&bytes, Limits::default())), &text);
    let (expected, expected_state) = org_run(&embedded(), &without_event(&text, failing));
    assert!(got[failing].is_err());
    let expected: Vec<String> = expected.into_iter().map(Result::unwrap).collect();
    for (i, line) in got.iter().enumerate().filter(|(i, _)| *i != failing) {
        let j = if i < failing { i } else { i - 1 };
        assert_eq!(line.as_ref().unwrap(), &renumbered(&expected[j], i), "event {i}");
    }
    // The decisions after the failure are those of a run without that event;
    // some of them differ from the real run's, which had the unassign.
    let real = real_lines(&text);
    assert_ne!(got[failing + 1..].iter().map(|l| l.as_ref().unwrap().clone()).collect::<Vec<_>>(), real[failing + 1..]);
    assert_eq!(state, expected_state, "the state at the end too");
}

#[test]
fn a_failed_decide_or_apply_changes_nothing() {
    let text = read(LICENSING);
    let mut formats = embedded().instance().unwrap();
    let scenario = formats.parse_scenario(&text, LICENSING).unwrap();
    let decide_traps = build(hostile::org_method("decide", Some(UNASSIGN)), Action::Trap);
    let apply_loops = build(hostile::org_method("apply", None), Action::Loop);
    for (bytes, limits, fails) in [(decide_traps, Limits::default(), "decide"), (apply_loops, limits(SHORT, 1024), "apply")] {
        let evaluator = Evaluator::Component(policy(&bytes, limits));
        let mut org = Org::load(&evaluator, scenario.state.clone(), LICENSING).unwrap();
        let mut real = Org::load(&embedded(), scenario.state.clone(), LICENSING).unwrap();
        for event in &scenario.events[..5] {
            assert_eq!(org.step(event).unwrap(), real.step(event).unwrap());
        }
        let before = org.snapshot().unwrap();
        let unassign = &scenario.events[5];
        if fails == "decide" {
            let e = org.decide(unassign).unwrap_err();
            assert!(e.to_string().contains("the policy component failed"), "{e}");
        } else {
            let effects = org.decide(unassign).unwrap().effects;
            assert!(!effects.is_empty());
            let e = org.apply(&effects).unwrap_err();
            assert!(e.to_string().contains("deadline"), "{e}");
        }
        assert_eq!(org.snapshot().unwrap(), before, "nothing changed");
        // And the organisation goes on as the real one.
        for event in &scenario.events[5..] {
            assert_eq!(org.step(event).unwrap(), real.step(event).unwrap());
        }
    }
}

#[test]
fn an_org_error_names_the_organisation_and_the_event() {
    let bytes = build(hostile::org_method("step", Some(UNASSIGN)), Action::Trap);
    let evaluator = Evaluator::Component(policy(&bytes, Limits::default()));
    let scenario = embedded().instance().unwrap().parse_scenario(&read(LICENSING), LICENSING).unwrap();
    let mut org = Org::load(&evaluator, scenario.state, "acme").unwrap();
    let e = org.step(&scenario.events[5]).unwrap_err();
    let message = e.to_string();
    assert!(message.starts_with("acme: unassign of `10ac88c8-2226-4a98-ae0c-b7f57df0c4d3`: "), "{message}");
}
#[test]
fn a_checkpoint_that_fails_does_not_fail_the_event_it_follows() {
    // Every snapshot traps: the checkpoints after 1,000 changes fail, and
    // the events are decided all the same (the replay is only longer).
    let text = long_scenario(2_200, 1_100);
    let bytes = build(hostile::org_method("snapshot", None), Action::Trap);
    let evaluator = Evaluator::Component(policy(&bytes, Limits::default()));
    let mut formats = embedded().instance().unwrap();
    let scenario = formats.parse_scenario(&text, "org.json").unwrap();
    let mut org = Org::load(&evaluator, scenario.state, "org.json").unwrap();
    let real = real_lines(&text);
    for (i, event) in scenario.events.iter().enumerate() {
        let decision = org.step(event).unwrap_or_else(|e| panic!("event {i}: {e}"));
        assert_eq!(formats.render_decision(i as u32, event, &decision).unwrap(), real[i], "event {i}");
    }
    assert!(org.snapshot().is_err(), "this component can't take snapshots");
}
#[test]
fn memory_refused_earlier_does_not_make_a_later_trap_a_limit() {
    // The start function asks for gigabytes, is refused and carries on; a
    // later trap is the component's defect (3), not a memory limit (4).
    let bytes = hostile::component_with(&[
        (Place::Start, Action::GrowHugeAndIgnore),
        (hostile::org_method("step", Some(UNASSIGN)), Action::Trap),
    ]);
    let evaluator = Evaluator::Component(policy(&bytes, Limits::default()));
    let (lines, ended) = run_lines(&evaluator, &read(LICENSING), LICENSING);
    ended.unwrap();
    let e = lines[5].1.as_ref().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Policy, "{e}");
    assert!(e.to_string().contains("the policy component failed"), "{e}");
}
// ------------------------------------------------------------------ threads

#[test]
fn one_policy_shared_by_many_threads_decides_as_one_thread_does() {
    fn assert_shareable<T: Send + Sync>() {}
    fn assert_sendable<T: Send>() {}
    assert_shareable::<Policy>();
    assert_shareable::<Evaluator>();
    assert_sendable::<Org>();
    assert_sendable::<turnstile::Instance>();

    // Many organisations: the examples and the conformance vectors.
    let mut scenarios: Vec<(String, String)> = ["examples/licensing.json", "examples/accounts.json", "examples/calls.json"]
        .iter()
        .map(|p| (p.to_string(), read(p)))
        .collect();
    for entry in std::fs::read_dir(root().join("tests/conformance")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            scenarios.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
        }
    }
    scenarios.push(("long".into(), long_scenario(300, 150)));
    let policy = Policy::embedded(&options(Limits::default())).unwrap();
    for evaluator in [Evaluator::Component(policy), Evaluator::Native] {
        let one_thread: Vec<Vec<String>> =
            scenarios.iter().map(|(name, text)| decided(&evaluator, text, name)).collect();
        // Eight threads, each running every organisation in its own order.
        let threads: Vec<Vec<Vec<String>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|t| {
                    let (evaluator, scenarios) = (&evaluator, &scenarios);
                    s.spawn(move || {
                        let n = scenarios.len();
                        let mut out = vec![Vec::new(); n];
                        for k in 0..n {
                            let i = (k * (2 * t + 1) + t) % n;
                            out[i] = decided(evaluator, &scenarios[i].1, &scenarios[i].0);
                        }
                        out
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (t, got) in threads.iter().enumerate() {
            assert_eq!(got, &one_thread, "thread {t}");
        }
    }
}

/// A scenario's lines (and errors, as text) through `run`.
fn decided(evaluator: &Evaluator, text: &str, name: &str) -> Vec<String> {
    let (lines, ended) = run_lines(evaluator, text, name);
    let mut out: Vec<String> = lines.into_iter().map(|(_, l)| l.unwrap_or_else(|e| format!("error: {e}"))).collect();
    if let Err(e) = ended {
        out.push(format!("not run: {e}"));
    }
    out
}

// ------------------------------------------------------------------ limits, through the CLI

#[test]
fn cli_a_loop_on_one_event_prints_every_other_decision_and_exits_4() {
    let dir = scratch();
    let bytes = build(hostile::org_method("step", Some(UNASSIGN)), Action::Loop);
    let wasm = write_component(dir.path(), "loop.wasm", &bytes);
    let out = output(cli().args(["run", "--policy", &wasm, "--deadline", "0.2", LICENSING]));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let real = real_lines(&read(LICENSING));
    let got = lines(&out);
    assert_eq!(got[..5], real[..5], "the decisions before the failure, as the real component's");
    let after = real_lines(&without_event(&read(LICENSING), 5));
    assert_eq!(got[5..], [renumbered(&after[5], 6)], "after it, as a run without that event");
    assert_eq!(
        text(&out.stderr),
        "turnstile: examples/licensing.json: events[5] (unassign of `10ac88c8-2226-4a98-ae0c-b7f57df0c4d3`): \
         deciding: the policy component ran past its deadline of 0.2 s per call; raise it with --deadline\n"
    );
}

#[test]
fn cli_a_trap_on_one_event_prints_every_other_decision_and_exits_3() {
    let dir = scratch();
    let bytes = build(hostile::org_method("step", Some(UNASSIGN)), Action::Trap);
    let wasm = write_component(dir.path(), "trap.wasm", &bytes);
    let out = output(cli().args(["run", "--policy", &wasm, LICENSING]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let real = real_lines(&read(LICENSING));
    let got = lines(&out);
    assert_eq!(got.len(), 6);
    assert_eq!(got[..5], real[..5]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(
            "turnstile: examples/licensing.json: events[5] (unassign of `10ac88c8-2226-4a98-ae0c-b7f57df0c4d3`): deciding: the policy component failed"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one located line, no backtrace: {stderr}");
}

#[test]
fn cli_status_names_a_failed_event_once() {
    let dir = scratch();
    let wasm = write_component(dir.path(), "trap.wasm", &build(hostile::org_method("step", Some(UNASSIGN)), Action::Trap));
    let out = output(cli().args(["status", "--policy", &wasm, LICENSING]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(
            "turnstile: examples/licensing.json: events[5] (unassign of `10ac88c8-2226-4a98-ae0c-b7f57df0c4d3`): deciding: the policy component failed ("
        ),
        "{stderr}"
    );
}

#[test]
fn cli_endless_memory_growth_exits_4_and_stays_small() {
    let dir = scratch();
    let bytes = build(hostile::org_method("step", Some(hostile::SYNC)), Action::GrowForever);
    let wasm = write_component(dir.path(), "grow.wasm", &bytes);
    // Five syncs, each filling 64 MiB before it is refused (and the state
    // rebuilt after each): the whole process stays within 256 MiB.
    let out = within(256, &["run", "--policy", &wasm, "--max-memory", "64", LICENSING]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("events[0] (sync of `10ac88c8"), "{stderr}");
    assert!(stderr.contains("memory limit of 64 MiB"), "{stderr}");
    assert!(stderr.contains("--max-memory"), "{stderr}");
    assert_eq!(lines(&out).len(), 2, "the unassign and the assign are decided");
    // The bound is what keeps it there: with a cap of 1 GiB the same
    // component can't stay within 256 MiB.
    let out = within(256, &["run", "--policy", &wasm, "--max-memory", "1024", LICENSING]);
    assert_ne!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("Cannot allocate memory"), "{}", text(&out.stderr));
}

#[test]
fn cli_a_start_function_that_loops_exits_4_with_nothing_printed() {
    let dir = scratch();
    let wasm = write_component(dir.path(), "start-loop.wasm", &build(Place::Start, Action::Loop));
    for args in [
        vec!["run", "--policy", &wasm, "--deadline", "0.2", LICENSING],
        vec!["check", "--policy", &wasm, "--deadline", "0.2", "examples/licenses.csv"],
        vec!["what-if", "--policy", &wasm, "--deadline", "0.2", "--users", "examples/users.csv", "--at", "2026-11-22T10:00:00Z"],
        vec!["component", "--info", "--policy", &wasm, "--deadline", "0.2"],
    ] {
        let out = output(cli().args(&args));
        assert_eq!(out.status.code(), Some(4), "{args:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "", "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.starts_with("turnstile: "), "{stderr}");
        assert!(stderr.contains("starting the policy component: the policy component ran past its deadline of 0.2 s"), "{stderr}");
    }
}

#[test]
fn cli_a_start_function_that_asks_for_gigabytes_exits_4_and_stays_small() {
    let dir = scratch();
    let wasm = write_component(dir.path(), "start-grow.wasm", &build(Place::Start, Action::GrowHuge));
    let out = within(256, &["run", "--policy", &wasm, LICENSING]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "turnstile: starting the policy component: the policy component needed more than its memory limit of 1024 MiB \
         (it asked for 3752 MiB); raise it with --max-memory\n"
    );
}

/// wasmtime bounds what one call may hand back (hostcall fuel, 128 MiB by
/// default); the host sets that bound to the memory cap, so ordinary input
/// larger than wasmtime's default is decided, not mistaken for an attack:
/// a 136 MiB name goes through the formats component, the policy and back
/// out in `--state-out` as it does natively.
#[test]
fn a_large_but_legitimate_value_is_decided_as_natively() {
    let dir = scratch();
    let name = "n".repeat(136 << 20);
    let scenario = format!(
        r#"{{"org":{{"licenses":{{"standard":1}},"auto_assign":true}},"users":[{{"id":"u1","name":"{name}"}}],
           "events":[{{"at":"2026-11-22T10:00:00Z","kind":"sync","user":"u1"}}]}}"#
    );
    drop(name);
    let file = dir.path().join("large.json");
    std::fs::write(&file, scenario).unwrap();
    let mut states = Vec::new();
    let mut outputs = Vec::new();
    for native in [false, true] {
        let state = dir.path().join(format!("state-{native}.json"));
        let mut args = vec!["run", file.to_str().unwrap(), "--state-out", state.to_str().unwrap()];
        if native {
            args.push("--native");
        }
        let out = output(cli().args(&args));
        assert_eq!(out.status.code(), Some(0), "native {native}: {}", text(&out.stderr));
        outputs.push(out.stdout);
        states.push(std::fs::read(&state).unwrap());
    }
    assert!(text(&outputs[0]).contains(r#""allow":true"#));
    assert_eq!(outputs[0], outputs[1]);
    assert!(states[0].len() > 136 << 20, "the name is in the state written");
    assert!(states[0] == states[1], "the component's state file is the native one");
}

#[test]
fn cli_what_if_and_check_name_the_limit_and_the_call() {
    let dir = scratch();
    let sync_users = write_component(dir.path(), "sync-users.wasm", &build(hostile::org_method("sync-users", None), Action::Loop));
    let out = output(cli().args([
        "what-if", "--policy", &sync_users, "--deadline", "0.2", "--users", "examples/users.csv", "--org",
        "examples/org.json", "--at", "2026-11-22T10:00:00Z",
    ]));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("deciding the syncs of rows 1 to 65536: the policy component ran past its deadline of 0.2 s"), "{stderr}");

    let usage = write_component(dir.path(), "usage.wasm", &build(hostile::org_method("usage", None), Action::GrowForever));
    let out = output(cli().args(["check", "--policy", &usage, "--max-memory", "32", "examples/licenses.csv"]));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("asking for usage: the policy component needed more than its memory limit of 32 MiB"), "{stderr}");
}

// ------------------------------------------------------------------ output accounted for

fn dev_full() -> Stdio {
    Stdio::from(std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full"))
}

/// A pipe whose reader is gone before the command starts.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Stdio::from(writer)
}

const WHAT_IF: [&str; 9] = [
    "what-if", "--users", "examples/users.csv", "--org", "examples/org.json", "--set", "auto_assign=true", "--at",
    "2026-11-22T10:00:00Z",
];

/// Every command that prints results, each format.
fn printing_commands() -> Vec<Vec<&'static str>> {
    let mut commands = vec![
        vec!["run", LICENSING],
        vec!["run", "--native", LICENSING],
        vec!["check", "examples/licenses.csv", "--org", "examples/org.json", "--users", "examples/users.csv"],
        vec!["component", "--out", "-"],
        vec!["component", "--info"],
        vec!["status", "examples/accounts.json"],
        vec!["status", "examples/accounts.json", "--format", "json"],
        vec!["export", "examples/users.csv"],
    ];
    for format in ["table", "json", "csv"] {
        let mut w = WHAT_IF.to_vec();
        w.extend(["--format", format]);
        commands.push(w);
    }
    commands
}

#[test]
fn a_full_disk_on_standard_output_is_an_error_exit() {
    for args in printing_commands() {
        let out = cli().args(&args).stdout(dev_full()).stderr(Stdio::piped()).output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.ends_with("turnstile: writing standard output: No space left on device (os error 28)\n"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn help_and_version_on_a_full_disk_are_an_error_exit() {
    for args in [vec!["--help"], vec!["run", "--help"], vec!["help", "check"], vec!["--version"]] {
        let out = cli().args(&args).stdout(dev_full()).stderr(Stdio::piped()).output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("writing standard output: No space left on device"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_closed_pipe_ends_quietly_with_status_0() {
    let mut commands = printing_commands();
    commands.extend([vec!["--help"], vec!["--version"]]);
    for args in commands {
        let out = cli().args(&args).stdout(closed_pipe()).stderr(Stdio::piped()).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("turnstile:") && !stderr.contains("panic"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_reader_that_goes_away_midway_ends_the_run_quietly() {
    let dir = scratch();
    let scenario = dir.path().join("long.json");
    std::fs::write(&scenario, long_scenario(20_000, 10_000)).unwrap();
    let mut child =
        cli().args(["run", scenario.to_str().unwrap()]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).unwrap();
    assert!(first.starts_with(b"{\"event\":0,"));
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn a_full_disk_on_standard_error_is_no_panic() {
    let dir = scratch();
    let trap = write_component(dir.path(), "trap.wasm", &build(hostile::org_method("step", Some(UNASSIGN)), Action::Trap));
    for (args, status) in [
        (vec!["check", "examples/licenses.csv"], 0), // warnings on standard error
        (vec!["run", "no/such/file.json"], 2),
        (vec!["run", "--policy", &trap, LICENSING], 3),
        (vec!["what-if", "--users", "examples/users.csv", "--at", "2026-11-22T10:00:00Z"], 2),
        (vec!["fly"], 2),
    ] {
        let out = cli().args(&args).stdout(Stdio::piped()).stderr(dev_full()).output().unwrap();
        assert_eq!(out.status.code(), Some(status), "{args:?}");
    }
}

// ------------------------------------------------------------------ inputs bounded

#[test]
fn an_endless_input_is_refused_at_its_bound_naming_the_file() {
    // Each within 512 MiB: at most the bound (256 MiB) is read.
    for (args, status, message) in [
        (vec!["run", "/dev/zero"], 2, "turnstile: /dev/zero: larger than 256 MiB, the most a text input may hold\n"),
        (
            vec!["what-if", "--users", "examples/users.csv", "--org", "/dev/zero"],
            2,
            "turnstile: /dev/zero: larger than 256 MiB, the most a text input may hold\n",
        ),
        (
            vec!["check", "/dev/zero"],
            1,
            "/dev/zero:1:1: a row longer than 1 MiB: is this a CSV file?\n/dev/zero: 1 error; nothing can be imported\n",
        ),
        (
            vec!["check", "examples/licenses.csv", "--users", "/dev/zero"],
            2,
            "turnstile: /dev/zero: the --users listing can't be used:\n/dev/zero:1:1: a row longer than 1 MiB: is this a CSV file?\n",
        ),
        (
            vec!["what-if", "--users", "/dev/zero", "--at", "2026-11-22T10:00:00Z"],
            2,
            "turnstile: /dev/zero: the users listing can't be used:\n/dev/zero:1:1: a row longer than 1 MiB: is this a CSV file?\n",
        ),
        (
            vec!["run", "--policy", "/dev/zero", LICENSING],
            2,
            "turnstile: /dev/zero: larger than 64 MiB, the most a policy component file may hold\n",
        ),
    ] {
        let out = within(512, &args);
        assert_eq!(out.status.code(), Some(status), "{args:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr), message, "{args:?}");
        assert_eq!(text(&out.stdout), "", "{args:?}");
    }
    // Standard input too.
    let out = cli()
        .args(["run", "-"])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), "turnstile: <stdin>: larger than 256 MiB, the most a text input may hold\n");
}

#[test]
fn a_directory_as_any_input_is_an_error_naming_it() {
    let dir = scratch();
    let d = dir.path().to_str().unwrap();
    for args in [
        vec!["run", d],
        vec!["check", d],
        vec!["check", "examples/licenses.csv", "--users", d],
        vec!["check", "examples/licenses.csv", "--org", d],
        vec!["what-if", "--users", d, "--at", "2026-11-22T10:00:00Z"],
        vec!["what-if", "--users", "examples/users.csv", "--org", d],
        vec!["run", "--policy", d, LICENSING],
    ] {
        let out = output(cli().args(&args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr), format!("turnstile: {d}: Is a directory (os error 21)\n"), "{args:?}");
        assert_eq!(text(&out.stdout), "");
    }
}

/// A FIFO in `dir` fed `content` by a thread, once a reader opens it.
fn fifo(dir: &Path, name: &str, content: Vec<u8>) -> (String, std::thread::JoinHandle<()>) {
    let path = dir.join(name);
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string naming a path in our own directory.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let p = path.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        let _ = f.write_all(&content);
    });
    (path.to_str().unwrap().to_string(), writer)
}

#[test]
fn fifos_are_read_as_they_come() {
    let dir = scratch();
    let by_file = |args: &[&str]| output(cli().args(args));
    // run FILE and --policy FILE
    let (scenario, w1) = fifo(dir.path(), "scenario", read(LICENSING).into_bytes());
    let (wasm, w2) = fifo(dir.path(), "policy.wasm", turnstile::policy::EMBEDDED_COMPONENT.to_vec());
    let out = output(cli().args(["run", "--policy", &wasm, &scenario]));
    w1.join().unwrap();
    w2.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(out.stdout, by_file(&["run", LICENSING]).stdout);
    // check FILE --users USERS --org ORG
    let (licenses, w1) = fifo(dir.path(), "licenses.csv", read("examples/licenses.csv").into_bytes());
    let (users, w2) = fifo(dir.path(), "users.csv", read("examples/users.csv").into_bytes());
    let (org, w3) = fifo(dir.path(), "org.json", read("examples/org.json").into_bytes());
    let out = output(cli().args(["check", &licenses, "--users", &users, "--org", &org]));
    for w in [w1, w2, w3] {
        w.join().unwrap();
    }
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let expected = by_file(&["check", "examples/licenses.csv", "--users", "examples/users.csv", "--org", "examples/org.json"]);
    assert_eq!(text(&out.stdout), text(&expected.stdout).replace("examples/licenses.csv", &licenses));
    // what-if --users USERS
    let (users, w) = fifo(dir.path(), "users2.csv", read("examples/users.csv").into_bytes());
    let mut args = WHAT_IF.to_vec();
    args[2] = &users;
    args.extend(["--format", "json"]);
    let out = output(cli().args(&args));
    w.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut expected = WHAT_IF.to_vec();
    expected.extend(["--format", "json"]);
    assert_eq!(out.stdout, by_file(&expected).stdout);
}

// ------------------------------------------------------------------ output files

/// The CLI under `umask`, as a shell would start it.
fn cli_with_umask(umask: &str, args: &[&str]) -> Output {
    cli_after(&format!("umask {umask}"), args)
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

/// The commands that write a file, writing `target`.
fn writing_commands(target: &str) -> Vec<Vec<&str>> {
    let mut what_if = WHAT_IF.to_vec();
    what_if.extend(["--out-users", target]);
    vec![
        vec!["run", LICENSING, "--state-out", target],
        what_if,
        vec!["component", "--out", target],
        vec!["export", "examples/users.csv", "--out", target],
        vec!["import", "examples/licenses.csv", "--users", "examples/users.csv", "--org", "examples/org.json", "--out", target],
    ]
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn a_new_output_file_gets_the_umasks_permissions() {
    for (umask, expected) in [("022", 0o644), ("077", 0o600), ("002", 0o664)] {
        let dir = scratch();
        let target = dir.path().join("out");
        for args in writing_commands(target.to_str().unwrap()) {
            let _ = std::fs::remove_file(&target);
            let out = cli_with_umask(umask, &args);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
            assert_eq!(mode(&target), expected, "umask {umask}: {args:?}");
            assert_eq!(names(dir.path()), ["out"], "nothing else is left beside it");
        }
    }
}

#[test]
fn a_replaced_output_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    for kept in [0o600, 0o640, 0o444] {
        let dir = scratch();
        let target = dir.path().join("out");
        for args in writing_commands(target.to_str().unwrap()) {
            std::fs::write(&target, "old").unwrap();
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(kept)).unwrap();
            let out = cli_with_umask("022", &args);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
            assert_ne!(std::fs::read(&target).unwrap(), b"old", "{args:?}: replaced");
            assert_eq!(mode(&target), kept, "{args:?}");
        }
    }
}

#[test]
fn a_symlink_planted_at_the_target_is_replaced_not_followed() {
    let dir = scratch();
    let victim = dir.path().join("victim");
    let target = dir.path().join("out");
    for args in writing_commands(target.to_str().unwrap()) {
        std::fs::write(&victim, "precious").unwrap();
        let _ = std::fs::remove_file(&target);
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        let out = output(cli().args(&args));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious", "{args:?}: the link's target is untouched");
        assert!(std::fs::symlink_metadata(&target).unwrap().file_type().is_file(), "{args:?}: a file now");
    }
}

#[test]
fn stray_partial_files_are_left_alone() {
    let dir = scratch();
    let target = dir.path().join("out");
    let strays = ["out.partial", ".turnstile-out.partial", ".turnstile-XXXXXX.partial", "out.tmp"];
    for stray in strays {
        std::fs::write(dir.path().join(stray), stray).unwrap();
    }
    // A stray that is a symlink to a file elsewhere, too.
    std::fs::write(dir.path().join("victim"), "precious").unwrap();
    std::os::unix::fs::symlink(dir.path().join("victim"), dir.path().join("out.partial.link")).unwrap();
    for args in writing_commands(target.to_str().unwrap()) {
        let out = output(cli().args(&args));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        for stray in strays {
            assert_eq!(std::fs::read_to_string(dir.path().join(stray)).unwrap(), stray, "{args:?}");
        }
        assert_eq!(std::fs::read_to_string(dir.path().join("victim")).unwrap(), "precious");
        let mut expected: Vec<String> = strays.iter().map(|s| s.to_string()).collect();
        expected.extend(["out".into(), "out.partial.link".into(), "victim".into()]);
        expected.sort();
        assert_eq!(names(dir.path()), expected, "{args:?}: only the target is new");
    }
}

#[test]
fn a_write_that_fails_leaves_the_target_as_it_was_and_nothing_beside_it() {
    let dir = scratch();
    let target = dir.path().join("out");
    std::fs::write(&target, "old").unwrap();
    let failed = turnstile::files::write_atomically(&target, |w| {
        w.write_all(b"half of it").map_err(|e| Error::output("out", e))?;
        Err(Error::input("out", "the writer gave up"))
    });
    assert!(failed.is_err());
    assert_eq!(std::fs::read(&target).unwrap(), b"old");
    assert_eq!(names(dir.path()), ["out"]);
    // Into a directory that doesn't exist, or onto a directory: an error naming the target.
    let missing = dir.path().join("no/such/dir/out");
    let e = turnstile::files::write_atomically(&missing, |w| w.write_all(b"x").map_err(|e| Error::output("x", e)))
        .unwrap_err();
    assert_eq!(e.to_string(), format!("{}: No such file or directory (os error 2)", missing.display()));
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let e = turnstile::files::write_atomically(&sub, |w| w.write_all(b"x").map_err(|e| Error::output("x", e)))
        .unwrap_err();
    assert!(e.to_string().starts_with(&format!("{}: ", sub.display())), "{e}");
    assert!(sub.is_dir());
    assert_eq!(names(dir.path()), ["out", "sub"]);
}

// ------------------------------------------------------------------ linear in input size
//
// Each of these inputs took a time quadratic in its size (minutes at these
// sizes). Through the component with the default limits they must be read
// well within the default deadline of 10 s: a deadline reached here is the
// sandbox mistaking ordinary input for an attack. (The benches in
// benches/decisions.rs measure them at 1k, 10k and 100k.)

const N: usize = 100_000;

/// Reads `text` through the component with the default limits; an error
/// must be the input's (located diagnostics), not a limit.
fn read_scenario(text: &str) -> Result<turnstile::model::Scenario, Error> {
    let read = embedded().instance().unwrap().parse_scenario(text, "big.json");
    if let Err(e) = &read {
        assert_eq!(e.kind(), ErrorKind::Input, "{}", e.to_string().lines().next().unwrap_or(""));
    }
    read
}

fn groups_json(shape: &str, n: usize) -> Vec<serde_json::Value> {
    (0..n)
        .map(|i| {
            let parent = match shape {
                "chain" => (i > 0).then(|| format!("g{}", i - 1)),
                "wide" => (i > 0).then(|| "g0".to_string()),
                _ => Some(format!("g{}", (i + n - 1) % n)), // cycle
            };
            serde_json::json!({ "id": format!("g{i}"), "kind": "user", "parent": parent })
        })
        .collect()
}

#[test]
fn a_cycle_of_100k_groups_is_refused_with_every_problem_placed() {
    let text = serde_json::to_string(&serde_json::json!({ "groups": groups_json("cycle", N) })).unwrap();
    let e = read_scenario(&text).unwrap_err();
    let problems = e.input_diagnostics();
    assert_eq!(problems.len(), N);
    // Placed at each group's parent, on the one line of this file.
    assert!(problems.iter().all(|d| d.line == 1 && d.column > 1 && d.message == "groups form a cycle"));
    assert_eq!(problems[N - 1].path, format!("groups[{}].parent", N - 1));
}

#[test]
fn deleting_a_group_with_100k_subgroups_is_decided_and_applied() {
    for shape in ["chain", "wide"] {
        let delete = serde_json::json!({ "at": "2026-11-22T10:00:00Z", "kind": "delete_group", "actor": "admin", "group": "g0" });
        let text = serde_json::to_string(&serde_json::json!({
            "groups": groups_json(shape, N),
            "users": [{ "id": "admin", "main_admin": true }],
            "events": [delete],
        }))
        .unwrap();
        let scenario = read_scenario(&text).unwrap();
        let mut org = Org::load(&embedded(), scenario.state, shape).unwrap();
        let decision = org.decide(&scenario.events[0]).unwrap();
        assert_eq!(decision.effects.len(), N, "{shape}: every subgroup, then the group");
        // Undone whole when the last effect is refused...
        let mut refused = decision.effects.clone();
        refused.push(turnstile::model::Effect::RemoveGroup("no such group".into()));
        assert!(org.apply(&refused).unwrap().is_err(), "{shape}");
        let state = org.snapshot().unwrap();
        assert_eq!(state.groups.len(), N + 1, "{shape}: nothing removed (the Position group too)");
        // ...and done whole by the step.
        assert!(org.step(&scenario.events[0]).unwrap().allow);
        let state = org.snapshot().unwrap();
        assert_eq!(state.groups.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), ["position"], "{shape}");
    }
}

#[test]
fn an_object_of_300k_keys_is_read_in_linear_time() {
    let keys: Vec<String> = (0..300_000).map(|i| format!("\"k{i}\":0")).collect();
    let text = format!("{{\"org\":{{{}}}}}", keys.join(","));
    let e = read_scenario(&text).unwrap_err();
    assert!(e.to_string().contains("org.k0: unknown field `k0`"), "{}", e.to_string().lines().next().unwrap());
    // And a duplicate far into it is found, placed at the second one.
    let text = format!("{{\"org\":{{{},\"k123456\":1}}}}", keys.join(","));
    let e = read_scenario(&text).unwrap_err();
    let message = e.to_string();
    assert!(message.contains("duplicate key `k123456` (first at line 1, column"), "{message}");
}

#[test]
fn an_organisation_of_100k_plans_is_read_in_linear_time() {
    let plans: Vec<serde_json::Value> =
        (0..N).map(|i| serde_json::json!({ "name": format!("p{i}"), "feature_sets": ["calls"] })).collect();
    let text = serde_json::to_string(&serde_json::json!({ "org": { "plans": plans, "plan": "p99999" } })).unwrap();
    let scenario = read_scenario(&text).unwrap();
    assert_eq!(scenario.state.settings.plans.len(), N + 3, "the three default plans and these");
    // The same through an --org file, with a --set.
    let org = serde_json::to_string(&serde_json::json!({ "plans": plans })).unwrap();
    let settings = embedded().instance().unwrap().parse_org(&org, "org.json", &["plan=p5".into()]).unwrap();
    assert_eq!(settings.plan, "p5");
    // Duplicates are each reported.
    let twice: Vec<serde_json::Value> = plans.iter().chain(&plans).cloned().collect();
    let text = serde_json::to_string(&serde_json::json!({ "org": { "plans": twice } })).unwrap();
    assert_eq!(read_scenario(&text).unwrap_err().input_diagnostics().len(), N);
}

#[test]
fn a_hundred_thousand_problems_are_each_placed() {
    // The same id 100k times, and 100k users in a group that doesn't exist.
    let same: Vec<serde_json::Value> = (0..N).map(|_| serde_json::json!({ "id": "u" })).collect();
    let text = serde_json::to_string_pretty(&serde_json::json!({ "users": same })).unwrap();
    let e = read_scenario(&text).unwrap_err();
    let problems = e.input_diagnostics();
    assert_eq!(problems.len(), N - 1);
    assert_eq!((problems[0].line, problems[0].path.as_str()), (7, "users[1].id"));
    assert_eq!(problems[N - 2].line as usize, 4 + 3 * (N - 1));
    let lost: Vec<serde_json::Value> = (0..N).map(|i| serde_json::json!({ "id": format!("u{i}"), "groups": ["nowhere"] })).collect();
    let text = serde_json::to_string(&serde_json::json!({ "users": lost })).unwrap();
    assert_eq!(read_scenario(&text).unwrap_err().input_diagnostics().len(), N);
}

// ------------------------------------------------------------------ duplicate keys

/// `scenario` through the CLI (component, then native): refused, exit 2,
/// nothing printed, the one message exactly `message`.
fn refused_with(scenario: &str, message: &str) {
    for native in [false, true] {
        let mut command = cli();
        command.args(["run", "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        if native {
            command.arg("--native");
        }
        let mut child = command.spawn().unwrap();
        child.stdin.take().unwrap().write_all(scenario.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{scenario}");
        assert_eq!(text(&out.stdout), "");
        assert_eq!(text(&out.stderr), format!("turnstile: {message}\n"), "native: {native}");
    }
}

#[test]
fn duplicate_keys_are_refused_everywhere_with_their_place() {
    let event = r#"{"at": "2026-11-22T10:00:00Z", "kind": "sync", "user": "u"}"#;
    for (scenario, message) in [
        (r#"{"users": [], "users": []}"#.to_string(), "<stdin>:1:15: duplicate key `users` (first at line 1, column 2)"),
        (
            r#"{"org": {"trial": true, "auto_assign": true, "trial": false}}"#.into(),
            "<stdin>:1:46: duplicate key `trial` (first at line 1, column 10)",
        ),
        (
            r#"{"org": {"licenses": {"standard": 1, "standard": 2}}}"#.into(),
            "<stdin>:1:38: duplicate key `standard` (first at line 1, column 23)",
        ),
        (
            r#"{"org": {"plans": [{"name": "gold", "feature_sets": ["calls"], "name": "silver"}]}}"#.into(),
            "<stdin>:1:64: duplicate key `name` (first at line 1, column 21)",
        ),
        (
            r#"{"users": [{"id": "u", "name": "Ann", "id": "v"}]}"#.into(),
            "<stdin>:1:39: duplicate key `id` (first at line 1, column 13)",
        ),
        (
            r#"{"users": [{"id": "u", "features": {"recording": true, "recording": false}}]}"#.into(),
            "<stdin>:1:56: duplicate key `recording` (first at line 1, column 37)",
        ),
        (
            r#"{"users": [{"id": "u", "features": {"country_filter": {"enabled": true, "allowed": [], "enabled": false}}}]}"#.into(),
            "<stdin>:1:88: duplicate key `enabled` (first at line 1, column 56)",
        ),
        (
            r#"{"users": [{"id": "u", "app": {"recording": true, "recording": true}}]}"#.into(),
            "<stdin>:1:51: duplicate key `recording` (first at line 1, column 32)",
        ),
        (
            r#"{"groups": [{"id": "g", "kind": "user", "kind": "permission"}]}"#.into(),
            "<stdin>:1:41: duplicate key `kind` (first at line 1, column 25)",
        ),
        (
            r#"{"users": [{"id": "u"}], "sessions": [{"user": "u", "login_at": "2026-11-22T10:00:00Z", "user": "u"}]}"#.into(),
            "<stdin>:1:89: duplicate key `user` (first at line 1, column 40)",
        ),
        (
            // The issue's example: a sync by `u` that was decided as a login by `v`.
            r#"{"users": [{"id": "u"}, {"id": "v"}], "events": [{"at": "2026-11-22T10:00:00Z", "kind": "sync", "user": "u", "user": "v", "kind": "login"}]}"#.into(),
            "<stdin>:1:110: duplicate key `user` (first at line 1, column 97)",
        ),
        (
            format!(r#"{{"users": [{{"id": "admin", "main_admin": true}}], "events": [{event}, {{"at": "2026-11-22T10:00:00Z", "kind": "create_user", "actor": "admin", "user": {{"id": "w", "id": "x"}}}}]}}"#),
            "<stdin>:1:214: duplicate key `id` (first at line 1, column 203)",
        ),
        (
            "{\n  \"about\": \"x\",\n  \"events\": [],\n  \"about\": \"y\"\n}".into(),
            "<stdin>:4:3: duplicate key `about` (first at line 2, column 3)",
        ),
    ] {
        refused_with(&scenario, message);
    }
}

#[test]
fn duplicate_keys_in_an_org_file_are_refused_with_their_place() {
    let dir = scratch();
    let org = dir.path().join("org.json");
    std::fs::write(&org, "{\n  \"licenses\": {\"standard\": 3, \"inspections\": 1, \"standard\": 30}\n}\n").unwrap();
    let org = org.to_str().unwrap();
    let expected = format!("turnstile: {org}:2:49: duplicate key `standard` (first at line 2, column 16)\n");
    for args in [
        vec!["check", "examples/licenses.csv", "--org", org],
        vec!["what-if", "--users", "examples/users.csv", "--org", org, "--set", "auto_assign=true"],
        vec!["what-if", "--native", "--users", "examples/users.csv", "--org", org],
    ] {
        let out = output(cli().args(&args));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&out.stderr), expected, "{args:?}");
    }
}


// ------------------------------------------------------------------ the limits' own values

#[test]
fn any_deadline_is_taken_or_refused_without_a_panic() {
    for (deadline, status) in [("1e300", 2), ("inf", 2), ("nan", 2), ("-1", 2), ("0", 2), ("1e-300", 2), ("1e12", 0), ("0.001", 0)] {
        let out = output(cli().args(["run", LICENSING, &format!("--deadline={deadline}")]));
        assert_eq!(out.status.code(), Some(status), "--deadline {deadline}: {}", text(&out.stderr));
        if status == 2 {
            assert_eq!(text(&out.stderr), "turnstile: --deadline: must be a positive number of seconds\n");
        }
    }
    // Centuries through the library: no overflow of the epoch, the calls run.
    let evaluator = Evaluator::Component(policy(turnstile::policy::EMBEDDED_COMPONENT, limits(Duration::MAX, 1024)));
    let (lines, ended) = run_lines(&evaluator, &read(LICENSING), LICENSING);
    ended.unwrap();
    assert!(lines.iter().all(|(_, l)| l.is_ok()));
}
