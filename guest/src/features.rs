//! Plans, per-user features, calls and SMS (rules F1–F6, seed 004). NOT YET IMPLEMENTED: issue 5.

use crate::model::{Code, Decision, Direction, Features, User};
use crate::state::State;

fn pending(kind: &str) -> Decision {
    Decision::deny(Code::NotPermitted, "F0", format!("`{kind}` events are not supported yet"))
}

pub fn save_features(_state: &State, _u: &User, _features: &Features) -> Decision { pending("save_features") }
pub fn set_app_toggle(_state: &State, _u: &User, _recording: Option<bool>, _crm_overlay: Option<bool>) -> Decision {
    pending("set_app_toggle")
}
pub fn set_plan(_state: &State, _plan: &str) -> Decision { pending("set_plan") }
pub fn call(_state: &State, _u: &User, _to: &str, _direction: Direction) -> Decision { pending("call") }
pub fn sms(_state: &State, _u: &User, _to: &str) -> Decision { pending("sms") }
