//! The `turnstile` command line. Each subcommand's flags are documented
//! where they are defined; `turnstile help <command>` prints them.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use turnstile::{Error, Evaluator, Policy, Result, scenario};

const EXIT_CODES: &str = "\
Exit status:
  0  done (denials are decisions, not failures)
  2  the input can't be used: a scenario, a file, a flag or a policy component,
     with a message naming the place (FILE:LINE:COLUMN and a JSON path)
  3  the policy component failed while deciding (a defect: please report it)";

#[derive(Parser)]
#[command(name = "turnstile", version, about = "Licensing, seat and feature-policy decisions from one WebAssembly component.")]
#[command(after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Feed a scenario's events to the policy and print one JSON decision per event.
    #[command(after_help = concat!(
        "Examples:\n",
        "  turnstile run examples/licensing.json\n",
        "  cat scenario.json | turnstile run -\n",
        "  turnstile run --policy turnstile.wasm examples/licensing.json\n\n",
        "Effects of each decision are applied before the next event. The scenario\n",
        "format is described in the README (\"Scenario files\").\n\n",
        "Exit status:\n",
        "  0  every event decided (denials included)\n",
        "  2  the scenario or the policy file can't be used; nothing is printed\n",
        "  3  the policy component failed while deciding; nothing is printed",
    ))]
    Run {
        /// The scenario file, or `-` for standard input.
        file: String,
        /// Load this policy component instead of the embedded one.
        #[arg(long, value_name = "FILE", conflicts_with = "native")]
        policy: Option<PathBuf>,
        /// Decide with the rules linked natively into this binary instead of
        /// the component (same rules; for comparison and debugging).
        #[arg(long)]
        native: bool,
    },
    /// Write the embedded policy component, for other hosts (Python, JavaScript, ...).
    #[command(after_help = "Example:\n  turnstile component --out turnstile.wasm\n  python3 -c \"import wasmtime\"  # then load turnstile.wasm")]
    Component {
        /// Where to write the component (`-` for standard output).
        #[arg(long, value_name = "FILE")]
        out: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { file, policy, native } => run(&file, policy, native),
        Command::Component { out } => component(&out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("turnstile: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn run(file: &str, policy: Option<PathBuf>, native: bool) -> Result<()> {
    let (text, source) = read_input(file)?;
    let scenario = scenario::parse(&text, &source)?;
    let evaluator = if native {
        Evaluator::Native
    } else {
        Evaluator::Component(match policy {
            Some(path) => Policy::from_file(&path)?,
            None => Policy::embedded()?,
        })
    };
    // Decide everything before printing: an error prints no decisions.
    let lines = turnstile::run(&evaluator, &scenario)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            return Ok(()); // the reader went away (e.g. `| head`)
        }
    }
    let _ = out.flush();
    Ok(())
}

fn component(out: &str) -> Result<()> {
    let bytes = turnstile::policy::EMBEDDED_COMPONENT;
    if out == "-" {
        io::stdout().write_all(bytes).map_err(|e| Error::input("standard output", e))
    } else {
        std::fs::write(out, bytes).map_err(|e| Error::input(out, e))
    }
}

/// The text of `file`, or of standard input for `-`, and its name for errors.
fn read_input(file: &str) -> Result<(String, String)> {
    if file == "-" {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).map_err(|e| Error::input("<stdin>", e))?;
        Ok((text, "<stdin>".into()))
    } else {
        let text = std::fs::read_to_string(file).map_err(|e| Error::input(file, e))?;
        Ok((text, file.into()))
    }
}
