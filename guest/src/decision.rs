//! Decisions as the rules make them, and the state changes they imply.
//!
//! Inside the engine a decision names users by their position in the state
//! ([`UserIx`]) and borrows its fixed texts, so the commonest decision, a
//! sync that only touches, allocates nothing. [`Decision::to_record`] spells
//! it as the contract's `decision` record, with user ids, when a host asks
//! for one; [`Effect::from_record`] reads a host's effects back.
//!
//! Every decision names its rule; a denial carries no effects.

use std::borrow::Cow;

use smallvec::SmallVec;

use crate::model::{
    self, AccountState, ActivityAt, AppToggles, Assignment, Code, EffectiveConfig, Features, GrantedLicense, Group,
    Instant, LicenseChange, LicenseType, SettingsChange, StateChange, User, UserAppToggles, UserConfig, UserDetails,
    UserFeatures, UserInstant,
};
use crate::state::State;
use crate::users::UserIx;

/// A message: fixed text borrowed, composed text owned.
pub type Text = Cow<'static, str>;

/// A decision's effects: up to three without allocating (a sync's `free`,
/// `assign`, `touch`).
pub type Effects = SmallVec<[Effect; 3]>;

/// One state change. `State::apply` performs them in order, all or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The licence becomes green; `assigned_at` = `at`.
    Assign { user: UserIx, license: LicenseType, at: Instant },
    /// Taken from an inactive holder by auto-free (L7): green to grey.
    Free { user: UserIx, license: LicenseType },
    /// Green or red to grey (L10, L11).
    Unassign { user: UserIx, license: LicenseType },
    /// To red, freeing it if it was green (L12).
    Disable { user: UserIx, license: LicenseType },
    /// The temporary licence starts (L9).
    StartTemporary { user: UserIx, at: Instant },
    /// `last_sync` = `at`.
    Touch { user: UserIx, at: Instant },
    StartSession { user: UserIx, at: Instant },
    EndSession { user: UserIx },
    RecordActivity { user: UserIx, at: Instant, tab_open: bool },
    SetState { user: UserIx, state: AccountState },
    SetPassword { user: UserIx },
    AddUser(Box<User>),
    RemoveGroup(Box<str>),
    SaveFeatures { user: UserIx, features: Box<Features> },
    SetAppToggles { user: UserIx, app: AppToggles },
    SetPlan(Box<str>),
    /// Informational: the user's effective configuration is now `config`.
    ConfigChanged { user: UserIx, config: Box<EffectiveConfig> },
    /// The user's mobile record starts over (L13).
    ResetMobileUser { user: UserIx },
    /// The user's details become these (A7, A8); `details.user` is the id.
    EditUser { user: UserIx, details: Box<UserDetails> },
    AddGroup(Box<Group>),
    /// The group with this id becomes this (A8).
    UpdateGroup(Box<Group>),
    /// The settings given change (O1).
    SetSettings(Box<SettingsChange>),
}

/// A decision, explained: `rule` names the rule that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allow: bool,
    pub code: Code,
    pub rule: &'static str,
    pub message: Text,
    pub detail: Option<Text>,
    pub effects: Effects,
    pub license: Option<GrantedLicense>,
    pub expires_at: Option<Instant>,
    pub inspections_features: Option<bool>,
    pub violations: Vec<String>,
    pub billing_ends_at: Option<Instant>,
    pub record: Option<bool>,
    pub calling_code: Option<&'static str>,
    pub presented_as: Option<String>,
    /// The earliest instant at which the same event, with nothing else
    /// happening in between, is decided differently ([`Decision::same_as`]);
    /// `None` when only another event can change it. Set by the rules that
    /// hold a time threshold (L8, L9, S3, S4, S5, A6) with [`Decision::until`].
    pub valid_until: Option<Instant>,
}

impl Decision {
    /// An allowed decision with no effects yet.
    pub fn allow(rule: &'static str, message: impl Into<Text>) -> Decision {
        Decision::new(true, Code::Ok, rule, message.into())
    }

    /// A denial: changes nothing.
    pub fn deny(code: Code, rule: &'static str, message: impl Into<Text>) -> Decision {
        Decision::new(false, code, rule, message.into())
    }

    fn new(allow: bool, code: Code, rule: &'static str, message: Text) -> Decision {
        Decision {
            allow,
            code,
            rule,
            message,
            detail: None,
            effects: Effects::new(),
            license: None,
            expires_at: None,
            inspections_features: None,
            violations: Vec::new(),
            billing_ends_at: None,
            record: None,
            calling_code: None,
            presented_as: None,
            valid_until: None,
        }
    }

    /// This decision holds until `at`, when time alone changes it. An
    /// instant at or past the last the engine takes ([`model::LAST_INSTANT`])
    /// is no change: no event can be decided after it.
    pub fn until(mut self, at: Instant) -> Decision {
        self.valid_until = (at < model::LAST_INSTANT).then_some(at);
        self
    }

    /// Whether this decision, made for an event at `at`, is the same as
    /// `other`, made for the same event at `other_at`: every field but the
    /// texts (`message` and `detail` narrate elapsed time, e.g. "idle 29 min
    /// 59 s"), `expires_at` (a running temporary licence's is fixed, a new
    /// one's moves with the event) and `valid_until`; an effect's instant
    /// is the same when equal or as far from its event's instant (a
    /// `touch` is always at the event's own). What `valid_until` promises is
    /// measured by this.
    pub fn same_as(&self, at: Instant, other: &Decision, other_at: Instant) -> bool {
        let instant = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
            (Some(a), Some(b)) => a == b || a.wrapping_sub(at) == b.wrapping_sub(other_at),
            (a, b) => a == b,
        };
        let effects_match = self.effects.len() == other.effects.len()
            && self.effects.iter().zip(&other.effects).all(|(a, b)| {
                let (mut a, mut b) = (a.clone(), b.clone());
                let (ia, ib) = (a.take_instant(), b.take_instant());
                a == b && instant(ia, ib)
            });
        (self.allow, self.code, self.rule, self.license, self.inspections_features, &self.violations)
            == (other.allow, other.code, other.rule, other.license, other.inspections_features, &other.violations)
            && (self.record, self.calling_code, &self.presented_as) == (other.record, other.calling_code, &other.presented_as)
            && self.billing_ends_at == other.billing_ends_at
            && effects_match
    }

    pub fn with_effects(mut self, effects: impl IntoIterator<Item = Effect>) -> Decision {
        self.effects = effects.into_iter().collect();
        debug_assert!(self.allow || self.effects.is_empty(), "a denial carries no effects");
        self
    }

    pub fn with_detail(mut self, detail: impl Into<Text>) -> Decision {
        self.detail = Some(detail.into());
        self
    }

    /// The contract's `decision` record, users named by id.
    pub fn to_record(&self, state: &State) -> model::Decision {
        model::Decision {
            allow: self.allow,
            code: self.code,
            message: self.message.to_string(),
            detail: self.detail.as_ref().map(|d| d.to_string()),
            rule: self.rule.to_string(),
            effects: self.effects.iter().map(|e| e.to_record(state)).collect(),
            license: self.license,
            expires_at: self.expires_at,
            inspections_features: self.inspections_features,
            violations: self.violations.clone(),
            billing_ends_at: self.billing_ends_at,
            record: self.record,
            calling_code: self.calling_code.map(str::to_string),
            presented_as: self.presented_as.clone(),
            valid_until: self.valid_until,
        }
    }
}

impl Effect {
    /// The effect's instant, if it has one, taken out (left as 0).
    fn take_instant(&mut self) -> Option<Instant> {
        match self {
            Effect::Assign { at, .. }
            | Effect::StartTemporary { at, .. }
            | Effect::Touch { at, .. }
            | Effect::StartSession { at, .. }
            | Effect::RecordActivity { at, .. } => Some(std::mem::take(at)),
            Effect::AddUser(user) => user.assigned_at.take(),
            _ => None,
        }
    }

    /// The contract's `effect`, users named by id.
    pub fn to_record(&self, state: &State) -> model::Effect {
        let id = |ix: &UserIx| state.users().get(*ix).id().to_string();
        match self {
            Effect::Assign { user, license, at } => {
                model::Effect::Assign(Assignment { user: id(user), license: *license, at: *at })
            }
            Effect::Free { user, license } => model::Effect::Free(LicenseChange { user: id(user), license: *license }),
            Effect::Unassign { user, license } => {
                model::Effect::Unassign(LicenseChange { user: id(user), license: *license })
            }
            Effect::Disable { user, license } => {
                model::Effect::Disable(LicenseChange { user: id(user), license: *license })
            }
            Effect::StartTemporary { user, at } => {
                model::Effect::StartTemporary(UserInstant { user: id(user), at: *at })
            }
            Effect::Touch { user, at } => model::Effect::Touch(UserInstant { user: id(user), at: *at }),
            Effect::StartSession { user, at } => model::Effect::StartSession(UserInstant { user: id(user), at: *at }),
            Effect::EndSession { user } => model::Effect::EndSession(id(user)),
            Effect::RecordActivity { user, at, tab_open } => {
                model::Effect::RecordActivity(ActivityAt { user: id(user), at: *at, tab_open: *tab_open })
            }
            Effect::SetState { user, state } => model::Effect::SetState(StateChange { user: id(user), state: *state }),
            Effect::SetPassword { user } => model::Effect::SetPassword(id(user)),
            Effect::AddUser(u) => model::Effect::AddUser((**u).clone()),
            Effect::RemoveGroup(g) => model::Effect::RemoveGroup(g.to_string()),
            Effect::SaveFeatures { user, features } => {
                model::Effect::SaveFeatures(UserFeatures { user: id(user), features: (**features).clone() })
            }
            Effect::SetAppToggles { user, app } => {
                model::Effect::SetAppToggles(UserAppToggles { user: id(user), app: *app })
            }
            Effect::SetPlan(plan) => model::Effect::SetPlan(plan.to_string()),
            Effect::ConfigChanged { user, config } => {
                model::Effect::ConfigChanged(UserConfig { user: id(user), config: (**config).clone() })
            }
            Effect::ResetMobileUser { user } => model::Effect::ResetMobileUser(id(user)),
            Effect::EditUser { details, .. } => model::Effect::EditUser((**details).clone()),
            Effect::AddGroup(g) => model::Effect::AddGroup((**g).clone()),
            Effect::UpdateGroup(g) => model::Effect::UpdateGroup((**g).clone()),
            Effect::SetSettings(c) => model::Effect::SetSettings((**c).clone()),
        }
    }

    /// A host's effect, its users found in `state`; `Err` names an unknown user.
    pub fn from_record(effect: &model::Effect, state: &State) -> Result<Effect, String> {
        let ix = |id: &str| state.users().find(id).ok_or_else(|| format!("unknown user `{id}`"));
        Ok(match effect {
            model::Effect::Assign(a) => Effect::Assign { user: ix(&a.user)?, license: a.license, at: a.at },
            model::Effect::Free(c) => Effect::Free { user: ix(&c.user)?, license: c.license },
            model::Effect::Unassign(c) => Effect::Unassign { user: ix(&c.user)?, license: c.license },
            model::Effect::Disable(c) => Effect::Disable { user: ix(&c.user)?, license: c.license },
            model::Effect::StartTemporary(t) => Effect::StartTemporary { user: ix(&t.user)?, at: t.at },
            model::Effect::Touch(t) => Effect::Touch { user: ix(&t.user)?, at: t.at },
            model::Effect::StartSession(s) => Effect::StartSession { user: ix(&s.user)?, at: s.at },
            model::Effect::EndSession(user) => Effect::EndSession { user: ix(user)? },
            model::Effect::RecordActivity(a) => {
                Effect::RecordActivity { user: ix(&a.user)?, at: a.at, tab_open: a.tab_open }
            }
            model::Effect::SetState(s) => Effect::SetState { user: ix(&s.user)?, state: s.state },
            model::Effect::SetPassword(user) => Effect::SetPassword { user: ix(user)? },
            model::Effect::AddUser(u) => Effect::AddUser(Box::new(u.clone())),
            model::Effect::RemoveGroup(g) => Effect::RemoveGroup(g.as_str().into()),
            model::Effect::SaveFeatures(f) => {
                Effect::SaveFeatures { user: ix(&f.user)?, features: Box::new(f.features.clone()) }
            }
            model::Effect::SetAppToggles(t) => Effect::SetAppToggles { user: ix(&t.user)?, app: t.app },
            model::Effect::SetPlan(plan) => Effect::SetPlan(plan.as_str().into()),
            model::Effect::ConfigChanged(c) => {
                Effect::ConfigChanged { user: ix(&c.user)?, config: Box::new(c.config.clone()) }
            }
            model::Effect::ResetMobileUser(user) => Effect::ResetMobileUser { user: ix(user)? },
            model::Effect::EditUser(d) => Effect::EditUser { user: ix(&d.user)?, details: Box::new(d.clone()) },
            model::Effect::AddGroup(g) => Effect::AddGroup(Box::new(g.clone())),
            model::Effect::UpdateGroup(g) => Effect::UpdateGroup(Box::new(g.clone())),
            model::Effect::SetSettings(c) => Effect::SetSettings(Box::new(c.clone())),
        })
    }
}

/// A deleted account can do nothing (A6); `rule` names the rule refusing.
pub fn deleted(rule: &'static str) -> Decision {
    Decision::deny(Code::AccountDeleted, rule, "the account has been deleted")
}

/// A decision's effects as the contract spells them (for tests).
#[cfg(test)]
pub(crate) fn effect_records(d: &Decision, state: &State) -> Vec<model::Effect> {
    d.effects.iter().map(|e| e.to_record(state)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touched(at: Instant, message: &'static str) -> Decision {
        Decision::allow("L4", message).with_effects([Effect::Touch { user: UserIx(0), at }])
    }

    #[test]
    fn until_stops_before_the_last_instant() {
        assert_eq!(Decision::allow("S5", "").until(100).valid_until, Some(100));
        assert_eq!(Decision::allow("S5", "").until(model::LAST_INSTANT).valid_until, None);
        assert_eq!(Decision::allow("S5", "").until(Instant::MAX).valid_until, None);
    }

    #[test]
    fn the_same_decision_later_moves_its_instants_with_the_event() {
        // A touch at the event's own instant, whatever the text says.
        assert!(touched(10, "idle 1 s").same_as(10, &touched(70, "idle 61 s"), 70));
        assert!(!touched(10, "").same_as(10, &touched(11, ""), 70), "an effect neither equal nor as far");
        let mut billed = Decision::allow("A6", "");
        billed.billing_ends_at = Some(1_000);
        let mut next = billed.clone();
        assert!(billed.same_as(10, &next, 20));
        next.billing_ends_at = Some(2_000);
        assert!(!billed.same_as(10, &next, 1_000), "a billing end is compared as it is");
        assert!(!touched(10, "").same_as(10, &Decision::deny(Code::LicenseExpired, "L9", ""), 10));
    }
}
