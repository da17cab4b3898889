//! Seats and sessions (rules S1–S5, seed 002). NOT YET IMPLEMENTED: issue 4.

use crate::model::{Code, Decision, Instant, User};
use crate::state::State;

fn pending(kind: &str) -> Decision {
    Decision::deny(Code::NotPermitted, "S0", format!("`{kind}` events are not supported yet"))
}

pub fn activate(_state: &State, _u: &User) -> Decision { pending("activate") }
pub fn deactivate(_state: &State, _u: &User) -> Decision { pending("deactivate") }
pub fn login(_state: &State, _u: &User, _now: Instant) -> Decision { pending("login") }
pub fn logout(_state: &State, _u: &User) -> Decision { pending("logout") }
pub fn activity(_state: &State, _u: &User, _tab_open: bool, _now: Instant) -> Decision { pending("activity") }
pub fn close_session(_state: &State, _u: &User, _now: Instant) -> Decision { pending("close_session") }
