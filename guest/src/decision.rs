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
        }
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
        }
    }
}

impl Effect {
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
