//! `turnstile component`: the policy component itself, for other hosts.

use std::path::PathBuf;
use std::process::ExitCode;

use turnstile::{Error, Evaluator, Result, files};

use super::PolicyArgs;
use super::output::Stdout;

/// Write the policy component (the embedded one, or --policy FILE) for other hosts, or describe it.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  turnstile component --out turnstile.wasm
  turnstile component --formats --out turnstile-formats.wasm
  turnstile component --info
  turnstile component --info --policy turnstile.wasm

--info prints the component's version, the edition of the rules it decides by,
its SHA-256 (for --expect-sha256), its size and its interfaces.

--formats writes the formats component instead (wit/formats.wit): the scenario
reader and writer every host uses (this CLI included) and the CSV reader and
writer this CLI links natively, built from the same crate. It decides nothing.

Exit status:
  0  written or described
  2  the file can't be written, or --policy can't be used")]
pub struct Args {
    /// Where to write the component (`-` for standard output).
    #[arg(long, value_name = "FILE", required_unless_present = "info")]
    out: Option<String>,
    /// Describe the component (the embedded one, or --policy FILE) instead.
    #[arg(long, conflicts_with = "formats")]
    info: bool,
    /// Write the formats component (wit/formats.wit) instead of the policy.
    #[arg(long)]
    formats: bool,
    #[command(flatten)]
    policy: PolicyArgs,
}

pub fn component(args: Args) -> Result<ExitCode> {
    if args.info {
        let policy = args.policy.policy()?;
        let mut instance = Evaluator::Component(policy.clone()).instance()?;
        let info = instance.info()?;
        let mut out = Stdout::new();
        out.line(&format!("component:  {}", policy.name()))?;
        out.line(&format!("version:    {}", info.version))?;
        out.line(&format!("rules:      edition {} (docs/rules.md)", info.rules))?;
        out.line(&format!("sha256:     {}", policy.sha256()))?;
        out.line(&format!("size:       {} bytes", policy.size()))?;
        out.line("interfaces: turnstile:policy/types, turnstile:policy/engine (wit/policy.wit); imports nothing")?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    // The policy written is the one --policy names (checked against
    // --expect-sha256 and loaded, so only a usable component is written).
    let policy;
    let bytes = if args.formats {
        turnstile::policy::FORMATS_COMPONENT
    } else {
        policy = args.policy.policy()?;
        policy.bytes()
    };
    match args.out.as_deref() {
        Some("-") | None => {
            let mut out = Stdout::new();
            out.writer().write_all(bytes).map_err(|e| Error::output("standard output", e))?;
            out.flush()?;
        }
        Some(path) => {
            let path = PathBuf::from(path);
            files::write_atomically(&path, |w| w.write_all(bytes).map_err(|e| Error::output(path.display(), e)))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
