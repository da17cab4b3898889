//! Times `turnstile what-if` and `turnstile check` on generated populations
//! and prints the README's table: wall time and peak memory (maximum
//! resident set size, from `/usr/bin/time -v`) of each run, as a separate
//! process, so the figures are what an administrator sees.
//!
//! ```sh
//! cargo build --release --examples
//! ./target/release/examples/bench_whatif            # 10k, 100k, 1M users
//! ./target/release/examples/bench_whatif 10000 50000
//! ./target/release/examples/bench_whatif --runs 3    # median of 3 runs each
//! ```
//!
//! Each size: `gen_users N` writes a listing and a fitting organisation in a
//! temporary directory, then it runs
//! `turnstile what-if --set auto_assign=true --set auto_free=true --format json`
//! with the component, the same with `--native` for comparison, and
//! `turnstile check` of the listing onto itself with `--org`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--runs N`: run each command N times and report the median wall time
    // (and the largest peak memory): the machine may be shared.
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let sizes: Vec<u64> = {
        let mut skip_next = false;
        let sizes: Vec<u64> = args
            .iter()
            .filter(|a| {
                let skip = skip_next || *a == "--runs";
                skip_next = *a == "--runs";
                !skip
            })
            .filter_map(|a| a.parse().ok())
            .collect();
        if sizes.is_empty() { vec![10_000, 100_000, 1_000_000] } else { sizes }
    };
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("bench_whatif: can't find my own path");
        return ExitCode::from(2);
    };
    let examples = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    let gen_users = examples.join("gen_users");
    let turnstile = examples.parent().map(|p| p.join("turnstile")).unwrap_or_default();
    for (what, path) in [("gen_users", &gen_users), ("turnstile", &turnstile)] {
        if !path.exists() {
            eprintln!(
                "bench_whatif: {} is missing: run `cargo build --release --examples` first ({what})",
                path.display()
            );
            return ExitCode::from(2);
        }
    }
    let time_v = Path::new("/usr/bin/time").exists();
    if !time_v {
        eprintln!("bench_whatif: /usr/bin/time is missing: peak memory is not measured");
    }
    let dir = std::env::temp_dir().join(format!("turnstile-bench-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("bench_whatif: {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    println!("| users | command | wall time | peak memory (max RSS) | changed users |");
    println!("| ---: | --- | ---: | ---: | ---: |");
    for n in sizes {
        let users = dir.join(format!("users-{n}.csv"));
        let org = dir.join(format!("org-{n}.json"));
        let status = Command::new(&gen_users).arg(n.to_string()).arg(&users).arg(&org).status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("bench_whatif: gen_users {n} failed");
            return ExitCode::from(2);
        }
        let (users_s, org_s) = (users.display().to_string(), org.display().to_string());
        let what_if = [
            "what-if",
            "--users",
            &users_s,
            "--org",
            &org_s,
            "--set",
            "auto_assign=true",
            "--set",
            "auto_free=true",
            "--at",
            "2026-11-22T10:00:00Z",
            "--format",
            "json",
        ];
        let commands: [(&str, Vec<&str>); 3] = [
            ("what-if (component)", what_if.to_vec()),
            ("what-if --native", what_if.iter().copied().chain(["--native"]).collect()),
            ("check --users --org", vec!["check", &users_s, "--users", &users_s, "--org", &org_s]),
        ];
        for (label, args) in commands {
            let mut all = Vec::new();
            for _ in 0..runs {
                match measure(&turnstile, &args, time_v) {
                    Ok(m) => all.push(m),
                    Err(e) => {
                        eprintln!("bench_whatif: {label} at {n} users: {e}");
                        return ExitCode::from(1);
                    }
                }
            }
            all.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
            let peak = all.iter().filter_map(|m| m.max_rss_kib).max();
            let median = all.swap_remove(all.len() / 2);
            let m = Measured { max_rss_kib: peak, ..median };
            println!(
                "| {n} | {label} | {:.2} s | {} | {} |",
                m.seconds,
                m.max_rss_kib.map_or("n/a".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0)),
                m.changed.map_or("".into(), |c| c.to_string()),
            );
        }
        let _ = std::fs::remove_file(&users);
        let _ = std::fs::remove_file(&org);
    }
    let _ = std::fs::remove_dir(&dir);
    ExitCode::SUCCESS
}

struct Measured {
    seconds: f64,
    max_rss_kib: Option<u64>,
    changed: Option<u64>,
}

fn measure(turnstile: &PathBuf, args: &[&str], time_v: bool) -> Result<Measured, String> {
    let mut command = if time_v {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-v").arg(turnstile);
        c
    } else {
        Command::new(turnstile)
    };
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let out = command.output().map_err(|e| e.to_string())?;
    let seconds = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("exit {:?}: {stderr}", out.status.code()));
    }
    let max_rss_kib = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .and_then(|k| k.trim().parse().ok());
    // The summary line of `--format json` says how many users changed.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let changed = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["summary"]["changed"].as_u64());
    Ok(Measured { seconds, max_rss_kib, changed })
}
