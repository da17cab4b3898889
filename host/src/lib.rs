//! Turnstile's Rust host: the policy component on wasmtime, scenario files,
//! and the JSON lines the CLI prints.
//!
//! ```no_run
//! use turnstile::{Evaluator, Policy, scenario};
//!
//! let text = std::fs::read_to_string("examples/licensing.json")
//!     .map_err(|e| turnstile::Error::input("examples/licensing.json", e))?;
//! let scenario = scenario::parse(&text, "examples/licensing.json")?;
//! let lines = turnstile::run(&Evaluator::Component(Policy::embedded()?), &scenario)?;
//! for line in lines {
//!     println!("{line}");
//! }
//! # Ok::<(), turnstile::Error>(())
//! ```

pub mod error;
pub mod policy;
pub mod render;
pub mod roster;
pub mod scenario;
pub mod whatif;

pub use error::{Error, ErrorKind, Result};
pub use policy::{Evaluator, LoadedOrg, Policy};
pub use scenario::Scenario;

/// How `check` and `what-if` name the organisation when no `--org` is given.
pub const DEFAULT_ORG: &str = "the default organisation";

/// Feeds a scenario's events in order, applying each decision's effects
/// before the next event, and returns one JSON line per event.
pub fn run(evaluator: &Evaluator, scenario: &Scenario) -> Result<Vec<String>> {
    let mut org = match evaluator.load(&scenario.state)? {
        Ok(org) => org,
        Err(problems) => return Err(scenario.state_error(&problems)),
    };
    let mut lines = Vec::with_capacity(scenario.events.len());
    for (i, event) in scenario.events.iter().enumerate() {
        let decision = org.step(event)?;
        lines.push(render::decision_line(i, event, &decision));
    }
    Ok(lines)
}
