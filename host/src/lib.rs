//! Turnstile's Rust host: the policy component on wasmtime, bounded and
//! contained, and what the `turnstile` command line does with it.
//!
//! - [`Policy`]: the compiled component (embedded, or a file), cached
//!   between runs, shared across threads; [`Limits`] bound every call.
//! - [`Evaluator`] / [`Instance`]: where decisions are made, the component
//!   or the natively linked rules, behind one interface over the contract's
//!   types ([`model`], generated from `wit/policy.wit`).
//! - [`Org`]: one organisation deciding one request at a time, a failure
//!   contained to the call that failed.
//! - [`run`], [`whatif`], [`licenses`]: scenarios, what-if questions and
//!   licence files, as the CLI's commands use them.
//!
//! ```no_run
//! use turnstile::{Evaluator, Options, Policy};
//!
//! let evaluator = Evaluator::Component(Policy::embedded(&Options::default())?);
//! let text = std::fs::read_to_string("examples/licensing.json")
//!     .map_err(|e| turnstile::Error::input("examples/licensing.json", e))?;
//! turnstile::run::run(&evaluator, &text, "examples/licensing.json", |_, line| {
//!     match line {
//!         Ok(line) => println!("{line}"),
//!         Err(e) => eprintln!("{e}"),
//!     }
//!     std::ops::ControlFlow::Continue(())
//! })?;
//! # Ok::<(), turnstile::Error>(())
//! ```

pub mod cache;
pub mod error;
pub mod files;
pub mod instance;
pub mod licenses;
pub mod org;
pub mod policy;
pub mod run;
pub mod whatif;

pub use error::{Error, ErrorKind, Result};
pub use instance::{Evaluator, Instance, LoaderId, OrgId};
pub use org::Org;
pub use policy::{Limits, Options, Policy};

/// The contract's types, as the host speaks them (generated from the WIT).
pub mod model {
    pub use crate::policy::bindings::exports::turnstile::policy::types::*;
}

/// How `check` and `what-if` name the organisation when no `--org` is given.
pub const DEFAULT_ORG: &str = "the default organisation";
