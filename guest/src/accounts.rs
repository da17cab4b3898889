//! Users, passwords, groups and permissions (rules A1–A6, seed 003). NOT YET IMPLEMENTED: issue 4.

use crate::model::{Code, Decision, Instant, User};
use crate::state::State;

fn pending(kind: &str) -> Decision {
    Decision::deny(Code::NotPermitted, "A0", format!("`{kind}` events are not supported yet"))
}

pub fn set_password(_u: &User, _password: &str, _confirm: &str) -> Decision { pending("set_password") }
pub fn create_user(_state: &State, _actor: &User, _user: &User, _now: Instant) -> Decision { pending("create_user") }
pub fn block_user(_state: &State, _actor: &User, _u: &User) -> Decision { pending("block_user") }
pub fn unblock_user(_state: &State, _actor: &User, _u: &User) -> Decision { pending("unblock_user") }
pub fn delete_user(_state: &State, _actor: &User, _u: &User, _now: Instant) -> Decision { pending("delete_user") }
pub fn delete_group(_state: &State, _actor: &User, _group: &str) -> Decision { pending("delete_group") }
