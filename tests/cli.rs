//! The `turnstile` command line, run as a user would: exit codes, output on
//! standard output, errors on standard error naming their place.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn turnstile(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_turnstile"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("turnstile starts");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a scenario given as text through stdin; it must fail with exit 2,
/// print no decisions, and name `place` in its message.
fn refused(scenario: &str, place: &str) -> String {
    let out = turnstile(&["run", "-"], Some(scenario));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(text(&out.stdout), "", "no decisions are printed on error");
    assert!(stderr.contains(place), "`{place}` not in: {stderr}");
    stderr
}

const GOOD: &str = r#"{
  "org": { "licenses": { "standard": 1 }, "auto_assign": true },
  "users": [ { "id": "u1" }, { "id": "u2" } ],
  "events": [
    { "at": "2026-11-22T10:00:00Z", "kind": "sync", "user": "u1" },
    { "at": "2026-11-22T10:01:00Z", "kind": "sync", "user": "u2" }
  ]
}"#;

#[test]
fn run_prints_one_json_line_per_event_and_exits_0_on_denials() {
    let out = turnstile(&["run", "-"], Some(GOOD));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["allow"], true);
    assert_eq!(lines[0]["rule"], "L6");
    // The first sync's assignment was applied before the second event.
    assert_eq!(lines[1]["allow"], false);
    assert_eq!(lines[1]["code"], "LICENSE_NOT_FOUND");
    assert_eq!(lines[1]["message"], "LICENSE: NOT FOUND");
}

#[test]
fn the_shipped_example_runs_and_is_deterministic() {
    let first = turnstile(&["run", "examples/licensing.json"], None);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let second = turnstile(&["run", "examples/licensing.json"], None);
    assert_eq!(first.stdout, second.stdout, "same inputs, same bytes");
    let native = turnstile(&["run", "--native", "examples/licensing.json"], None);
    assert_eq!(first.stdout, native.stdout, "component and native rules agree");
    let scenario = std::fs::read_to_string(root().join("examples/licensing.json")).unwrap();
    let piped = turnstile(&["run", "-"], Some(&scenario));
    assert_eq!(first.stdout, piped.stdout, "`-` reads standard input");
}

#[test]
fn bad_json_names_line_and_column() {
    refused("{\n  \"users\": [ { \"id\": \"u1\" } ,, ]\n}", "<stdin>:2:");
}

#[test]
fn an_unknown_field_names_its_path() {
    let stderr = refused(r#"{"users": [{"id": "u1", "nmae": "Ann"}]}"#, "users[0]");
    assert!(stderr.contains("nmae"), "{stderr}");
}

#[test]
fn a_bad_instant_names_its_path() {
    let scenario = r#"{"users": [{"id": "u1"}],
        "events": [{"at": "2026-11-22T10:00:00Z", "kind": "sync", "user": "u1"},
                   {"at": "2026-11-31T10:00:00Z", "kind": "sync", "user": "u1"}]}"#;
    let stderr = refused(scenario, "events[1].at");
    assert!(stderr.contains("no such date"), "{stderr}");
}

#[test]
fn an_unknown_user_names_its_event() {
    let scenario = r#"{"users": [{"id": "u1"}],
        "events": [{"at": "2026-11-22T10:00:00Z", "kind": "sync", "user": "u1"},
                   {"at": "2026-11-22T10:00:00Z", "kind": "sync", "user": "ghost"}]}"#;
    let stderr = refused(scenario, "events[1].user");
    assert!(stderr.contains("unknown user `ghost`"), "{stderr}");
}

#[test]
fn an_unknown_event_kind_is_refused() {
    let scenario = r#"{"users": [{"id": "u1"}], "events": [{"at": "2026-11-22T10:00:00Z", "kind": "teleport", "user": "u1"}]}"#;
    let stderr = refused(scenario, "events[0]");
    assert!(stderr.contains("teleport"), "{stderr}");
}

#[test]
fn a_bad_enum_value_lists_the_good_ones() {
    let stderr = refused(r#"{"users": [{"id": "u1", "standard": "green"}]}"#, "users[0].standard");
    assert!(stderr.contains("unassigned, assigned, disabled"), "{stderr}");
}

#[test]
fn an_inconsistent_state_lists_every_problem() {
    let scenario = r#"{"org": {"licenses": {"standard": 1}, "plan": "gold"},
        "users": [{"id": "u1", "standard": "assigned"}, {"id": "u2", "standard": "assigned"},
                  {"id": "u1"}]}"#;
    let stderr = refused(scenario, "org.plan: unknown plan `gold`");
    assert!(stderr.contains("users[2].id: duplicate user id `u1`"), "{stderr}");
    assert!(stderr.contains("2 standard licences assigned but 1 purchased (1 over)"), "{stderr}");
}

#[test]
fn a_missing_file_is_an_input_error() {
    let out = turnstile(&["run", "no/such/scenario.json"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/such/scenario.json"));
}

#[test]
fn the_written_component_is_the_policy_run_uses() {
    let dir = std::env::temp_dir().join(format!("turnstile-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wasm = dir.join("turnstile.wasm");
    let out = turnstile(&["component", "--out", wasm.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let embedded = turnstile(&["run", "examples/licensing.json"], None);
    let loaded = turnstile(&["run", "--policy", wasm.to_str().unwrap(), "examples/licensing.json"], None);
    assert_eq!(loaded.status.code(), Some(0), "{}", text(&loaded.stderr));
    assert_eq!(embedded.stdout, loaded.stdout);

    let junk = dir.join("junk.wasm");
    std::fs::write(&junk, b"not wasm at all").unwrap();
    let out = turnstile(&["run", "--policy", junk.to_str().unwrap(), "examples/licensing.json"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a WebAssembly component"), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");

    // `component --out --policy FILE` writes that policy, once it passes
    // --expect-sha256 and loads; otherwise nothing.
    let copy = dir.join("copy.wasm");
    let out = turnstile(&["component", "--out", copy.to_str().unwrap(), "--policy", wasm.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&wasm).unwrap());
    let refused = dir.join("refused.wasm");
    for policy in [&["--policy", junk.to_str().unwrap()][..], &["--expect-sha256", "00"][..]] {
        let mut args = vec!["component", "--out", refused.to_str().unwrap()];
        args.extend_from_slice(policy);
        let out = turnstile(&args, None);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(!refused.exists(), "nothing is written for {policy:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stamped_decisions_name_the_rules_that_decided_them() {
    let plain = turnstile(&["run", "examples/licensing.json"], None);
    let info = text(&turnstile(&["component", "--info"], None).stdout);
    let field = |name: &str| {
        let line = info.lines().find(|l| l.starts_with(&format!("{name}:"))).expect(name);
        line.split_whitespace().nth(1).unwrap().to_string()
    };
    let (version, sha256) = (field("version"), field("sha256"));
    // "rules:      edition 2 (docs/rules.md)"
    let edition = info.lines().find(|l| l.starts_with("rules:")).unwrap().split_whitespace().nth(2).unwrap();
    for native in [false, true] {
        let mut args = vec!["run", "--stamp", "examples/licensing.json"];
        if native {
            args.push("--native");
        }
        let stamped = turnstile(&args, None);
        assert_eq!(stamped.status.code(), Some(0), "{}", text(&stamped.stderr));
        let (plain, stamped) = (text(&plain.stdout), text(&stamped.stdout));
        assert_eq!(plain.lines().count(), stamped.lines().count());
        for (plain, stamped) in plain.lines().zip(stamped.lines()) {
            let mut line: serde_json::Value = serde_json::from_str(stamped).unwrap();
            let policy = line.as_object_mut().unwrap().remove("policy").expect("a policy field");
            assert_eq!(policy, serde_json::json!({ "version": version, "rules": edition, "sha256": sha256 }));
            assert_eq!(line, serde_json::from_str::<serde_json::Value>(plain).unwrap(), "nothing else changes");
            assert!(stamped.starts_with(&plain[..plain.len() - 1]), "the stamp is the last field: {stamped}");
        }
    }
}

/// `turnstile` with `args`, its compiled-code cache in `cache`.
fn cached(cache: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_turnstile"))
        .args(args)
        .current_dir(root())
        .env("TURNSTILE_CACHE_DIR", cache)
        .env_remove("TURNSTILE_NO_CACHE")
        .stdin(Stdio::null())
        .output()
        .expect("turnstile starts")
}

#[test]
fn a_corrupt_or_stale_cache_entry_is_compiled_again_never_loaded() {
    let cache = tempfile::tempdir().unwrap();
    let args = ["run", "examples/licensing.json"];
    let first = cached(cache.path(), &args);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let mut entries: Vec<PathBuf> = std::fs::read_dir(cache.path()).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    assert_eq!(entries.len(), 2, "one entry per component (policy, formats): {entries:?}");
    assert!(entries.iter().all(|e| e.extension().is_some_and(|x| x == "cwasm")));
    let good: Vec<Vec<u8>> = entries.iter().map(|e| std::fs::read(e).unwrap()).collect();

    // Each way an entry can be spoiled, done to both entries.
    let spoil: [(&str, fn(&[u8]) -> Vec<u8>); 4] = [
        ("a flipped byte in the compiled code", |b| {
            let mut b = b.to_vec();
            let last = b.len() - 1;
            b[last] ^= 0xff;
            b
        }),
        ("another layout's header", |b| {
            let mut b = b.to_vec();
            b[0] ^= 0xff;
            b
        }),
        ("half the entry", |b| b[..b.len() / 2].to_vec()),
        ("an empty file", |_| Vec::new()),
    ];
    for (what, spoiled) in spoil {
        for (entry, good) in entries.iter().zip(&good) {
            std::fs::write(entry, spoiled(good)).unwrap();
        }
        let out = cached(cache.path(), &args);
        assert_eq!(out.status.code(), Some(0), "{what}: {}", text(&out.stderr));
        assert_eq!(out.stdout, first.stdout, "{what}: decided as before");
        for (entry, good) in entries.iter().zip(&good) {
            assert!(std::fs::read(entry).unwrap() == *good, "{what}: {} is written again, whole", entry.display());
        }
    }

    // --no-cache neither reads nor writes the cache.
    for entry in &entries {
        std::fs::remove_file(entry).unwrap();
    }
    let out = cached(cache.path(), &["run", "--no-cache", "examples/licensing.json"]);
    assert_eq!(out.stdout, first.stdout);
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0, "nothing written with --no-cache");
}

#[test]
fn help_documents_exit_codes_with_an_example() {
    let out = turnstile(&["run", "--help"], None);
    let help = text(&out.stdout);
    assert!(help.contains("Exit status"), "{help}");
    assert!(help.contains("turnstile run examples/licensing.json"), "{help}");
    let out = turnstile(&["--help"], None);
    assert!(text(&out.stdout).contains("Exit status"));
    for (command, example) in [
        ("export", "turnstile export examples/users.csv"),
        ("import", "turnstile import licenses.csv --users examples/users.csv --org examples/org.json"),
        ("status", "turnstile status examples/accounts.json"),
    ] {
        let help = text(&turnstile(&[command, "--help"], None).stdout);
        assert!(help.contains("Exit status") && help.contains(example), "{command}: {help}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let out = turnstile(&["run"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = turnstile(&["fly"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn errors_inside_an_event_name_the_full_path_and_the_event_line() {
    let scenario = "{\"users\": [{\"id\": \"admin\"}],\n \"events\": [\n  {\"at\": \"2026-11-22T10:00:00Z\", \"kind\": \"create_user\", \"actor\": \"admin\",\n   \"user\": {\"id\": \"u2\", \"standard\": \"green\"}}]}";
    let stderr = refused(scenario, "<stdin>:3:3: events[0].user.standard");
    assert!(stderr.contains("unassigned, assigned, disabled"), "{stderr}");
    let scenario = r#"{"users": [{"id": "u1"}], "events": [{"at": "2026-11-22T10:00:00Z", "kind": "sync", "user": "u1", "chanel": "web"}]}"#;
    let stderr = refused(scenario, "events[0]");
    assert!(stderr.contains("chanel"), "{stderr}");
}

#[test]
fn an_organisations_own_plans_may_not_share_a_name() {
    let scenario = r#"{"org": {"plans": [{"name": "gold", "feature_sets": ["calls"]},
                                        {"name": "gold", "feature_sets": ["sms"]}]}}"#;
    refused(scenario, "org.plans[4].name: duplicate plan `gold`");
}

const STATUS: &str = r#"{
  "org": { "licenses": { "standard": 2, "inspections": 1, "external": true }, "max_active_users": 3 },
  "users": [
    { "id": "a", "standard": "assigned" },
    { "id": "b", "temporary_since": "2026-11-20T10:00:00Z" },
    { "id": "c", "temporary_since": "2026-11-01T10:00:00Z" },
    { "id": "d", "account": "inactive" }
  ],
  "events": [
    { "at": "2026-11-22T10:00:00Z", "kind": "login", "user": "a" },
    { "at": "2026-11-22T10:05:00Z", "kind": "login", "user": "b" },
    { "at": "2026-11-22T10:20:00Z", "kind": "activity", "user": "b", "tab_open": false }
  ]
}"#;

#[test]
fn status_reports_usage_and_sessions_after_the_events() {
    // Worked out from rules.md: b's temporary licence (from 20 Nov) runs until
    // 4 Dec, c's ended on 15 Nov; a, b and c are active; at 10:35 a's session
    // has been idle 35 minutes (not live, S3), b's 15 (live).
    let expected = concat!(
        r#"{"at":"2026-11-22T10:35:00Z","licenses":[{"license":"standard","purchased":2,"assigned":1,"free":1},"#,
        r#"{"license":"inspections","purchased":1,"assigned":0,"free":1}],"external":true,"pending":1,"expired":1,"#,
        r#""active_accounts":3,"max_active_users":3,"live_sessions":1,"sessions":["#,
        r#"{"user":"a","login_at":"2026-11-22T10:00:00Z","last_activity":"2026-11-22T10:00:00Z","tab_open":true,"idle_seconds":2100,"live":false},"#,
        r#"{"user":"b","login_at":"2026-11-22T10:05:00Z","last_activity":"2026-11-22T10:20:00Z","tab_open":false,"idle_seconds":900,"live":true}]}"#,
        "\n"
    );
    for extra in [&[][..], &["--native"][..]] {
        let mut args = vec!["status", "-", "--at", "2026-11-22T10:35:00Z", "--format", "json"];
        args.extend_from_slice(extra);
        let out = turnstile(&args, Some(STATUS));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), expected, "{extra:?}");
    }
    // Without --at: the last event's instant, when both sessions are live.
    let out = turnstile(&["status", "-"], Some(STATUS));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.starts_with("Status of <stdin> after 3 events, at 2026-11-22T10:20:00Z\n"), "{table}");
    for line in [
        "standard             2         1         1",
        "inspections          1         0         1",
        "external           yes",
        "pending users (temporary licence running): 1",
        "active accounts:                           3 of 3",
        "2 open sessions, 2 live:",
        "  a     2026-11-22T10:00:00Z  2026-11-22T10:00:00Z    20 min 0 s  open    yes",
        "  b     2026-11-22T10:05:00Z  2026-11-22T10:20:00Z           0 s  closed  yes",
    ] {
        assert!(table.lines().any(|l| l == line), "`{line}` not in:\n{table}");
    }
}

#[test]
fn status_refuses_what_it_cannot_use() {
    let out = turnstile(&["status", "-", "--at", "soon"], Some(STATUS));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--at"), "{}", text(&out.stderr));
    let no_events = r#"{ "users": [ { "id": "a" } ] }"#;
    let out = turnstile(&["status", "-"], Some(no_events));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("has no events"), "{}", text(&out.stderr));
    let out = turnstile(&["status", "-", "--at", "2026-11-22T10:00:00Z"], Some(no_events));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("no open sessions"));
    let out = turnstile(&["status", "-"], Some(r#"{ "users": [ { "id": "a" } ], "events": [ { "at": "2026-11-22T10:00:00Z", "kind": "sync", "user": "b" } ] }"#));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("events[0].user"), "{}", text(&out.stderr));
}

#[test]
fn a_deleted_user_holding_a_licence_or_a_session_does_not_load() {
    let stderr = refused(
        r#"{ "org": { "licenses": { "standard": 1 } },
             "users": [ { "id": "holder", "account": "deleted", "standard": "assigned" }, { "id": "gone", "account": "deleted" } ],
             "sessions": [ { "user": "gone", "login_at": "2026-11-22T10:00:00Z", "last_activity": "2026-11-22T10:00:00Z", "tab_open": true } ] }"#,
        "users[0]",
    );
    assert!(stderr.contains("users[0]: a deleted user holds a licence"), "{stderr}");
    assert!(stderr.contains("sessions[0]: user `gone` is deleted: a deleted account has no session (A6)"), "{stderr}");
    let stderr = refused(r#"{ "org": { "temporary_days": 0, "idle_logout_minutes": 1441 } }"#, "org.temporary_days");
    assert!(stderr.contains("org.idle_logout_minutes: 1441 is out of range: 1 to 1440 minutes"), "{stderr}");
    refused(r#"{ "users": [ { "id": "a", "last_sync": "1969-12-31T23:59:59Z" } ] }"#, "users[0].last_sync");
}

/// `run --explain`: every denial's line gets its remedies, the allowed
/// lines don't change, and the component and the native rules print the
/// same bytes. Each remedy's events, fed to a scenario, let the event through.
#[test]
fn run_explain_adds_remedies_to_denials_only() {
    let plain = turnstile(&["run", "examples/locked-out.json"], None);
    let explained = turnstile(&["run", "--explain", "examples/locked-out.json"], None);
    assert_eq!(explained.status.code(), Some(0), "{}", text(&explained.stderr));
    let native = turnstile(&["run", "--explain", "--native", "examples/locked-out.json"], None);
    assert_eq!(explained.stdout, native.stdout, "component and native rules agree");
    let (plain, explained) = (text(&plain.stdout), text(&explained.stdout));
    let lines: Vec<serde_json::Value> = explained.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(plain.lines().next(), explained.lines().next(), "an allowed line is the same");
    assert_eq!(lines[0]["valid_until"], "2026-11-15T09:00:00Z");
    assert_eq!(lines[1]["code"], "LICENSE_EXPIRED");
    assert!(lines[1].get("valid_until").is_none(), "only another event helps");
    let remedies = lines[1]["remedies"].as_array().unwrap();
    assert_eq!(remedies.len(), 3, "{explained}");
    assert_eq!(remedies[1]["summary"], "Unassign the standard licence of `ralf`, idle for 143 days, and assign it to `bob`.");
    // The remedy's events, then the denied event, in a scenario of their own.
    let mut scenario: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("examples/locked-out.json")).unwrap()).unwrap();
    let denied = scenario["events"][1].clone();
    let mut events = remedies[1]["events"].as_array().unwrap().clone();
    events.push(denied);
    scenario["events"] = serde_json::Value::Array(events);
    let replay = turnstile(&["run", "-"], Some(&scenario.to_string()));
    let last: serde_json::Value = serde_json::from_str(text(&replay.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(last, remedies[1]["decision"].as_object().map(|d| {
        let mut line = serde_json::json!({"event": 2, "kind": "sync", "user": "bob"});
        line.as_object_mut().unwrap().extend(d.clone());
        line
    }).unwrap());
}

/// `what-if --explain`: a cheapest remedy for each user who gets worse, in every format.
#[test]
fn what_if_explain_names_the_cheapest_remedy_for_users_who_get_worse() {
    let args = [
        "what-if", "--users", "examples/users.csv", "--org", "examples/org.json", "--set", "auto_assign=true",
        "--set", "auto_free=true", "--at", "2026-11-22T10:00:00Z", "--explain",
    ];
    let table = turnstile(&args, None);
    assert_eq!(table.status.code(), Some(0), "{}", text(&table.stderr));
    let table = text(&table.stdout);
    assert_eq!(table.matches("remedy: Buy one more standard licence (4 in all).").count(), 2, "{table}");
    let json = turnstile(&[&args[..], &["--format", "json"]].concat(), None);
    let lines: Vec<serde_json::Value> = text(&json.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let worse: Vec<&serde_json::Value> = lines.iter().filter(|l| l.get("remedy").is_some()).collect();
    assert_eq!(worse.len(), 2);
    assert!(worse.iter().all(|l| l["before"]["allow"] == true && l["after"]["allow"] == false));
    assert_eq!(worse[0]["remedy"]["events"][0]["kind"], "set_settings");
    let csv = turnstile(&[&args[..], &["--format", "csv"]].concat(), None);
    let csv = text(&csv.stdout);
    assert!(csv.lines().next().unwrap().ends_with(",\"Cheapest Remedy\""), "{csv}");
    let plain = turnstile(&args[..args.len() - 1], None);
    assert!(!text(&plain.stdout).contains("remedy"), "without --explain, no remedies");
}
