//! Whole-process benchmarks: every row of the README's performance table
//! that a user times with a stopwatch, measured as separate processes, so
//! the figures are what an administrator sees. Wall time, and peak memory
//! (maximum resident set size, from `/usr/bin/time -v`).
//!
//! ```sh
//! cargo build --release --examples
//! ./target/release/examples/bench_whatif            # 10k, 100k, 1M users
//! ./target/release/examples/bench_whatif 10000 50000
//! ./target/release/examples/bench_whatif --runs 3    # median of 3 runs each
//! ```
//!
//! For each size, `gen_users N` writes a listing and a fitting organisation
//! in a temporary directory, then this runs, each as its own process:
//! - the floor: the csv crate merely parsing the listing (this program again,
//!   with `--parse-floor FILE`), what no reader can beat;
//! - `turnstile what-if --set auto_assign=true --set auto_free=true --format json`
//!   through the component, and the same with `--native`;
//! - `turnstile check` of the listing onto itself, with `--org`.
//!
//! The ratios compare each command with the floor of the same file and the
//! component with the native rules. Then `turnstile run examples/licensing.json`
//! (the compiled component cached after the first run) and the binary's size.
//! `cargo bench -p turnstile --bench decisions` measures the rest (one
//! decision, loading 100k users) with criterion.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, file] = args.as_slice()
        && flag == "--parse-floor"
    {
        return parse_floor(Path::new(file));
    }
    // `--runs N`: run each command N times and report the median wall time
    // (and the largest peak memory): the machine may be shared.
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let mut sizes: Vec<u64> = Vec::new();
    let mut skip_next = false;
    for a in &args {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        skip_next = a == "--runs";
        if let Ok(n) = a.parse() {
            sizes.push(n);
        }
    }
    if sizes.is_empty() {
        sizes = vec![10_000, 100_000, 1_000_000];
    }
    match bench(&sizes, runs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_whatif: {e}");
            ExitCode::from(1)
        }
    }
}

/// The floor: the csv crate reading every record of `file`, nothing else.
fn parse_floor(file: &Path) -> ExitCode {
    let reader = csv::ReaderBuilder::new().has_headers(true).from_path(file);
    let Ok(mut reader) = reader else {
        eprintln!("bench_whatif: can't read {}", file.display());
        return ExitCode::from(2);
    };
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    while let Ok(true) = reader.read_byte_record(&mut record) {
        rows += 1;
    }
    println!("{rows}");
    ExitCode::SUCCESS
}

struct Tools {
    this: PathBuf,
    gen_users: PathBuf,
    turnstile: PathBuf,
    time_v: bool,
    dir: PathBuf,
}

fn bench(sizes: &[u64], runs: usize) -> Result<(), String> {
    let this = std::env::current_exe().map_err(|e| format!("can't find my own path: {e}"))?;
    let examples = this.parent().map(Path::to_path_buf).unwrap_or_default();
    let turnstile = examples.parent().map(|p| p.join("turnstile")).unwrap_or_default();
    let tools = Tools {
        gen_users: examples.join("gen_users"),
        turnstile,
        time_v: Path::new("/usr/bin/time").exists(),
        dir: std::env::temp_dir().join(format!("turnstile-bench-{}", std::process::id())),
        this,
    };
    for path in [&tools.gen_users, &tools.turnstile] {
        if !path.exists() {
            return Err(format!("{} is missing: run `cargo build --release --examples` first", path.display()));
        }
    }
    if !tools.time_v {
        eprintln!("bench_whatif: /usr/bin/time is missing: peak memory is not measured");
    }
    std::fs::create_dir_all(&tools.dir).map_err(|e| format!("{}: {e}", tools.dir.display()))?;
    let result = bench_in(&tools, sizes, runs);
    let _ = std::fs::remove_dir_all(&tools.dir);
    result
}

fn bench_in(tools: &Tools, sizes: &[u64], runs: usize) -> Result<(), String> {
    println!("| users | command | wall time | peak memory (max RSS) | compared |");
    println!("| ---: | --- | ---: | ---: | --- |");
    for &n in sizes {
        let users = tools.dir.join(format!("users-{n}.csv"));
        let org = tools.dir.join(format!("org-{n}.json"));
        let status = Command::new(&tools.gen_users).arg(n.to_string()).arg(&users).arg(&org).status();
        if !matches!(status, Ok(s) if s.success()) {
            return Err(format!("gen_users {n} failed"));
        }
        let (users_s, org_s) = (users.display().to_string(), org.display().to_string());
        let what_if: Vec<&str> = vec![
            "what-if", "--users", &users_s, "--org", &org_s, "--set", "auto_assign=true", "--set", "auto_free=true",
            "--at", "2026-11-22T10:00:00Z", "--format", "json",
        ];
        let mut native = what_if.clone();
        native.push("--native");
        let floor = measure(tools, &tools.this, &["--parse-floor", &users_s], runs)?;
        let component = measure(tools, &tools.turnstile, &what_if, runs)?;
        let native = measure(tools, &tools.turnstile, &native, runs)?;
        let check = measure(tools, &tools.turnstile, &["check", &users_s, "--users", &users_s, "--org", &org_s], runs)?;
        let x = |a: &Measured, b: &Measured| format!("{:.1}x", a.seconds / b.seconds);
        row(n, "csv crate parse only (the floor)", &floor, String::new());
        row(n, "what-if (component)", &component, format!("{} the floor, {} native", x(&component, &floor), x(&component, &native)));
        row(n, "what-if --native", &native, format!("{} the floor", x(&native, &floor)));
        row(n, "check --users --org (component)", &check, format!("{} the floor", x(&check, &floor)));
        let _ = std::fs::remove_file(&users);
        let _ = std::fs::remove_file(&org);
    }
    // A small scenario, as a user runs it again and again: the compiled
    // component comes from the cache (the first run fills it).
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/licensing.json");
    let example_s = example.display().to_string();
    measure(tools, &tools.turnstile, &["run", &example_s], 1)?;
    let run = measure(tools, &tools.turnstile, &["run", &example_s], runs.max(10))?;
    row(7, "run examples/licensing.json (cached)", &run, String::new());
    let size = std::fs::metadata(&tools.turnstile).map_err(|e| e.to_string())?.len();
    println!("\nThe turnstile binary: {:.1} MB ({size} bytes).", size as f64 / 1e6);
    Ok(())
}

fn row(n: u64, label: &str, m: &Measured, compared: String) {
    let memory = m.max_rss_kib.map_or("n/a".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0));
    let time = if m.seconds < 1.0 { format!("{:.0} ms", m.seconds * 1e3) } else { format!("{:.2} s", m.seconds) };
    println!("| {n} | {label} | {time} | {memory} | {compared} |");
}

struct Measured {
    seconds: f64,
    max_rss_kib: Option<u64>,
}

/// Runs `program args` `runs` times: the median wall time and the largest
/// peak memory. Standard output goes to a file (a pipe would pace the run).
fn measure(tools: &Tools, program: &Path, args: &[&str], runs: usize) -> Result<Measured, String> {
    let mut all = Vec::new();
    for _ in 0..runs {
        let mut command = if tools.time_v {
            let mut c = Command::new("/usr/bin/time");
            c.arg("-v").arg(program);
            c
        } else {
            Command::new(program)
        };
        let out_path = tools.dir.join("stdout");
        let out = std::fs::File::create(&out_path).map_err(|e| e.to_string())?;
        command.args(args).stdin(Stdio::null()).stdout(out).stderr(Stdio::piped());
        let start = Instant::now();
        let done = command.output().map_err(|e| e.to_string())?;
        let seconds = start.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&done.stderr);
        if !done.status.success() {
            return Err(format!("{} {}: exit {:?}: {stderr}", program.display(), args.join(" "), done.status.code()));
        }
        let max_rss_kib = stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
            .and_then(|k| k.trim().parse().ok());
        all.push(Measured { seconds, max_rss_kib });
    }
    all.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    let peak = all.iter().filter_map(|m| m.max_rss_kib).max();
    let median = all.swap_remove(all.len() / 2);
    Ok(Measured { max_rss_kib: peak, ..median })
}
