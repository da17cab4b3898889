//! Turnstile's policy rules.
//!
//! The rules are plain Rust over the types of the WIT contract (`wit/policy.wit`),
//! one module per domain:
//!
//! - [`licensing`]: sync licences and the Mobile Users pane (rules L1–L14)
//! - [`seats`]: activation, logins and sessions (S1–S5)
//! - [`accounts`]: users, passwords, groups and permissions (A1–A8)
//! - [`features`]: plans, per-user features, calls, SMS, presentation (F1–F7)
//! - [`numbers`]: phone numbers and ITU-T E.164 calling codes (F5)
//! - [`organisation`]: the settings and what the organisation uses (O1–O3)
//!
//! [`Org`] holds one organisation's [`state`] and turns events into decisions
//! ([`engine`]). Compiled for `wasm32-unknown-unknown` the crate is the core
//! module of the component (see `component`); compiled natively it is the
//! same rules, for tests, benchmarks and the host's native mode. With the
//! `formats` feature the wasm build is instead the formats component: the
//! scenario reader and writer of [`scenario`] and the CSV reader of
//! [`listing`], for every host (`wit/formats.wit`).

// One family of types for every build: the `types` interface, generated
// from the world of the build. Natively, every interface (world `all`), for
// the host, tests and benchmarks; in wasm, the component being built: the
// policy (`policy`: types and engine) or, with the `formats` feature, the
// formats component (`formats`: types, scenario and listing).
#[cfg(all(not(target_arch = "wasm32"), not(feature = "serde")))]
wit_bindgen::generate!({
    path: "../wit",
    world: "all",
    additional_derives: [PartialEq, Eq],
});

#[cfg(all(not(target_arch = "wasm32"), feature = "serde"))]
wit_bindgen::generate!({
    path: "../wit",
    world: "all",
    additional_derives: [PartialEq, Eq, serde::Serialize, serde::Deserialize],
});

#[cfg(all(target_arch = "wasm32", not(feature = "formats")))]
wit_bindgen::generate!({
    path: "../wit",
    world: "policy",
    additional_derives: [PartialEq, Eq],
});

#[cfg(all(target_arch = "wasm32", feature = "formats"))]
wit_bindgen::generate!({
    path: "../wit",
    world: "formats",
    additional_derives: [PartialEq, Eq],
});

pub mod accounts;
pub mod calendar;
pub mod decision;
pub mod engine;
pub mod features;
mod holders;
pub mod json;
pub mod licensing;
pub mod listing;
pub mod model;
pub mod numbers;
pub mod organisation;
pub mod remedies;
pub mod scenario;
pub mod seats;
pub mod state;
pub mod users;

// The policy component's exports; a build with the `formats` feature is the
// formats component instead (wit/formats.wit), without them.
#[cfg(all(target_arch = "wasm32", not(feature = "formats")))]
mod component;
#[cfg(all(target_arch = "wasm32", feature = "formats"))]
mod formats;

pub use engine::{Org, Outcome};

/// The edition of `docs/rules.md` this crate decides by.
pub const RULES_EDITION: &str = "2";

/// Which rules this build decides by: the crate's version and the rules' edition.
pub fn info() -> model::PolicyInfo {
    model::PolicyInfo { version: env!("CARGO_PKG_VERSION").to_string(), rules: RULES_EDITION.to_string() }
}
