//! The `turnstile` command line: one module per command, each with its
//! flags documented where they are defined; the flags that choose and bound
//! the policy are shared ([`PolicyArgs`]).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use output::note;
use turnstile::{Error, ErrorKind, Evaluator, Limits, Options, Policy, Result};

mod check;
mod component;
mod export;
mod import;
mod output;
mod progress;
mod run;
mod status;
mod what_if;

pub const EXIT_CODES: &str = "\
Exit status:
  0  done (denials are decisions, not failures)
  1  `check`, `import`: the licence file can't be imported (every error printed,
     nothing written); `export`: the users listing has errors
  2  an input can't be used (a scenario, a file, a flag or a policy component,
     with a message naming the place: FILE:LINE:COLUMN and a JSON path), or an
     output can't be written
  3  the policy component failed (a defect: please report it)
  4  a call into the policy reached a sandbox limit (--deadline, --max-memory)

Formats: docs/scenario.md (scenarios, decision lines), docs/csv.md (licence
files), docs/rules.md (the rules); the sandbox: docs/sandbox.md.";

#[derive(Parser)]
#[command(name = "turnstile", version, about = "Licensing, seat and feature-policy decisions from one WebAssembly component.")]
#[command(after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Run(run::Args),
    Status(status::Args),
    Check(check::Args),
    Import(import::Args),
    Export(export::Args),
    WhatIf(what_if::Args),
    Component(component::Args),
}

/// Which policy decides, and how each call into it is bounded.
#[derive(Args, Debug, Clone)]
pub struct PolicyArgs {
    /// Load this policy component instead of the embedded one.
    #[arg(long, value_name = "FILE", conflicts_with = "native")]
    policy: Option<PathBuf>,
    /// Refuse the policy component unless its SHA-256 is this (hex).
    #[arg(long, value_name = "HEX")]
    expect_sha256: Option<String>,
    /// Decide with the rules linked natively into this binary instead of the
    /// component (the same rules; for comparison and debugging).
    #[arg(long)]
    native: bool,
    /// Wall-clock time one call into the policy may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::DEFAULT_DEADLINE.as_secs_f64())]
    deadline: f64,
    /// Memory one policy instance may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = Limits::DEFAULT_MAX_MEMORY >> 20)]
    max_memory: usize,
    /// Compile the component on every start instead of keeping the compiled
    /// code in the cache directory (also TURNSTILE_NO_CACHE=1).
    #[arg(long)]
    no_cache: bool,
}

impl PolicyArgs {
    pub fn options(&self) -> Result<Options> {
        let deadline = Duration::try_from_secs_f64(self.deadline)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| Error::input("--deadline", "must be a positive number of seconds"))?;
        if self.max_memory == 0 || self.max_memory > 4096 {
            return Err(Error::input("--max-memory", "must be 1 to 4096 MiB (a component's memory is 32-bit)"));
        }
        Ok(Options {
            limits: Limits { deadline, max_memory: self.max_memory << 20 },
            cache: !self.no_cache,
            expect_sha256: self.expect_sha256.clone(),
        })
    }

    pub fn evaluator(&self) -> Result<Evaluator> {
        if self.native {
            return Ok(Evaluator::Native);
        }
        Ok(Evaluator::Component(self.policy()?))
    }

    pub fn policy(&self) -> Result<Policy> {
        let options = self.options()?;
        match &self.policy {
            Some(path) => Policy::from_file(path, &options),
            None => Policy::embedded(&options),
        }
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Status(args) => status::status(args),
        Command::Check(args) => check::check(args),
        Command::Import(args) => import::import(args),
        Command::Export(args) => export::export(args),
        Command::WhatIf(args) => what_if::what_if(args),
        Command::Component(args) => component::component(args),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.kind() == ErrorKind::Closed => ExitCode::SUCCESS,
        Err(e) => {
            note!("turnstile: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Help, the version or a usage error, as clap prints them, but with the
/// write checked: help that can't be written is an error exit (a closed
/// pipe ends quietly), not a silent 0.
fn clap_exit(e: clap::Error) -> ExitCode {
    let printed = e.print().and_then(|()| std::io::Write::flush(&mut std::io::stdout()));
    match printed {
        // A usage error standard error can't take: nowhere left to say so.
        Err(_) if e.use_stderr() => {}
        Err(io) => {
            let error = Error::output("standard output", io);
            if error.kind() == ErrorKind::Closed {
                return ExitCode::SUCCESS;
            }
            note!("turnstile: {error}");
            return ExitCode::from(error.exit_code());
        }
        Ok(()) => {}
    }
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}
