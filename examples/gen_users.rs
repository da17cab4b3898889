//! Writes a sample users listing of any size, and an organisation that fits
//! it, for `turnstile what-if` and its benchmarks. Deterministic: the same
//! arguments give the same bytes.
//!
//! ```sh
//! cargo run --release --example gen_users -- 100000 /tmp/users-100k.csv /tmp/org-100k.json
//! turnstile what-if --users /tmp/users-100k.csv --org /tmp/org-100k.json \
//!     --set auto_assign=true --set auto_free=true --at 2026-11-22T10:00:00Z
//! ```
//!
//! The population, as seen at 2026-11-22T10:00:00Z: 40% hold Standard and
//! 10% Inspections, with last syncs spread over the last 180 days (so about
//! half are auto-free candidates at 90 days); 3% have both licences disabled,
//! 3% Inspections disabled, 2% are external, 17% are pending with a
//! temporary licence started in the last 30 days, the rest are new. The
//! organisation purchased exactly the licences held (none free), with
//! auto-assignment off: turning it on makes every new user claim a licence
//! from an inactive holder.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use turnstile_policy::calendar::format_rfc3339;
use turnstile_policy::listing::{COLUMNS, OPTIONAL_COLUMNS, write_record};
use turnstile_policy::model::DAY;

/// 2026-11-22T10:00:00Z, the instant the population is described at.
const NOW: i64 = 1_795_341_600;

/// SplitMix64: a small, well-mixed deterministic generator.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(count), Some(users_path)) = (args.first().and_then(|n| n.parse::<u64>().ok()), args.get(1)) else {
        eprintln!("usage: gen_users COUNT USERS.csv [ORG.json] [SEED]");
        return ExitCode::from(2);
    };
    let org_path = args.get(2);
    let seed = args.get(3).and_then(|s| s.parse::<u64>().ok()).unwrap_or(1);
    match generate(count, users_path, org_path.map(String::as_str), seed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_users: {e}");
            ExitCode::from(2)
        }
    }
}

fn generate(count: u64, users_path: &str, org_path: Option<&str>, seed: u64) -> std::io::Result<()> {
    assert_eq!(format_rfc3339(NOW), "2026-11-22T10:00:00Z");
    let mut out = BufWriter::new(File::create(users_path)?);
    let mut record = String::new();
    write_record(&mut record, COLUMNS.iter().chain(OPTIONAL_COLUMNS.iter()).copied());
    out.write_all(record.as_bytes())?;
    let (mut standard, mut inspections) = (0u64, 0u64);
    for i in 0..count {
        let r = mix(seed.wrapping_mul(0x1000_0000_0000).wrapping_add(i));
        let (a, b) = (mix(r), mix(r ^ 0x5555));
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        );
        let name = format!("User {i}");
        let email = format!("user{i}@example.com");
        let ago = |days: u64, salt: u64| format_rfc3339(NOW - (mix(r ^ salt) % (days * DAY as u64)) as i64 - 60);
        let kind = r % 100;
        let (mut std_cell, mut insp_cell, mut last, mut assigned, mut temporary, mut external) =
            ("", "", String::new(), String::new(), String::new(), "false");
        match kind {
            0..50 => {
                if kind < 40 {
                    std_cell = "Assigned";
                    standard += 1;
                } else {
                    insp_cell = "Assigned";
                    inspections += 1;
                }
                last = ago(180, 1);
                assigned = ago(720, 2);
            }
            50..53 => {
                std_cell = "Disabled";
                insp_cell = "Disabled";
            }
            53..56 => {
                insp_cell = "Disabled";
                last = ago(30, 3);
            }
            56..58 => external = "true",
            58..75 => {
                temporary = ago(30, 4);
                last = ago(5, 5);
            }
            _ => {}
        }
        record.clear();
        write_record(&mut record, [id.as_str(), &name, &email, std_cell, insp_cell, &last, &assigned, &temporary, external]);
        out.write_all(record.as_bytes())?;
    }
    out.flush()?;
    if let Some(org_path) = org_path {
        let org = format!(
            "{{\n  \"licenses\": {{ \"standard\": {standard}, \"inspections\": {inspections}, \"external\": true }},\n  \
             \"inspections_enabled\": false,\n  \"auto_assign\": false,\n  \"auto_free\": false,\n  \
             \"temporary_days\": 14,\n  \"inactive_days\": 90\n}}\n"
        );
        std::fs::write(org_path, org)?;
    }
    Ok(())
}
