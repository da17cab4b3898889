//! `turnstile run`: a scenario's decisions, one JSON line per event.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

use turnstile::{Error, ErrorKind, Result, files};

use super::PolicyArgs;
use super::output::{Stdout, note};

/// Feed a scenario's events to the policy and print one JSON decision per event.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  turnstile run examples/licensing.json
  cat scenario.json | turnstile run -
  turnstile run --policy turnstile.wasm --expect-sha256 HEX examples/licensing.json
  turnstile run examples/accounts.json --state-out after.json
  turnstile run --stamp examples/licensing.json
  turnstile run --explain examples/licensing.json

Each decision's effects are applied before the next event. Lines are printed
as the events are decided. The scenario format and the decision line are in
docs/scenario.md. --stamp ends every line with the rules that decided it, for
an audit log: \"policy\":{\"version\":\"0.3.0\",\"rules\":\"2\",\"sha256\":\"...\"}, the
component's version, the edition of its rules and the SHA-256 of its file (as
`turnstile component --info` prints them).

Exit status:
  0  every event decided (denials included)
  2  the scenario or the policy file can't be used (nothing is printed), or the
     output can't be written
  3  the policy component failed on an event: the decisions before and after it
     are printed, the failure is on standard error naming the event
  4  a call reached a sandbox limit (--deadline, --max-memory), likewise")]
pub struct Args {
    /// The scenario file, or `-` for standard input.
    file: String,
    /// Write the state after the last event as a scenario without events, to
    /// continue from later (written whole, or not at all).
    #[arg(long, value_name = "FILE")]
    state_out: Option<PathBuf>,
    /// End every decision line with `"policy":{...}`: the version, rules
    /// edition and SHA-256 of the component that decided it.
    #[arg(long)]
    stamp: bool,
    /// Add to every denial's line its remedies: what would let it through,
    /// smallest first, each checked by the policy (docs/scenario.md,
    /// "remedies"). A scenario with "explain": true is explained without it.
    #[arg(long)]
    explain: bool,
    #[command(flatten)]
    policy: PolicyArgs,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let (text, source) = files::read_text(&args.file, files::MAX_TEXT)?;
    let evaluator = args.policy.evaluator()?;
    let stamp = if args.stamp { Some(evaluator.stamp()?) } else { None };
    let mut out = Stdout::new();
    let mut worst: Option<Error> = None;
    let mut write_error: Option<Error> = None;
    let options = turnstile::run::Options { keep_state: args.state_out.is_some(), explain: args.explain };
    let report = turnstile::run::run_with(&evaluator, &text, &source, options, |_, line| {
        match line {
            Ok(line) => {
                let line = match &stamp {
                    Some(stamp) => stamped(&line, stamp),
                    None => line,
                };
                if let Err(e) = out.line(&line) {
                    write_error = Some(e);
                    return ControlFlow::Break(());
                }
            }
            Err(e) => {
                // Lines before the failure go out first, then the failure.
                if let Err(e) = out.flush() {
                    write_error = Some(e);
                    return ControlFlow::Break(());
                }
                note!("turnstile: {e}");
                if worst.as_ref().is_none_or(|w| e.exit_code() > w.exit_code()) {
                    worst = Some(e);
                }
            }
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = write_error {
        return Err(e);
    }
    out.flush()?;
    if let (Some(path), Some(state)) = (&args.state_out, &report.state) {
        let mut formats = evaluator.instance()?;
        let text = formats.render_state(state)?;
        files::write_atomically(path, |w| w.write_all(text.as_bytes()).map_err(|e| Error::output(path.display(), e)))?;
    }
    match worst {
        None => Ok(ExitCode::SUCCESS),
        Some(e) if e.kind() == ErrorKind::Closed => Ok(ExitCode::SUCCESS),
        Some(e) => Ok(ExitCode::from(e.exit_code())),
    }
}

/// A decision line (one JSON object) with `"policy":STAMP` as its last field.
fn stamped(line: &str, stamp: &str) -> String {
    let body = line.strip_suffix('}').unwrap_or(line);
    format!(r#"{body},"policy":{stamp}}}"#)
}
