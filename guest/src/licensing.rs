//! Licences for mobile and web sync, and the administrator's licence
//! selector and Mobile Users pane (rules L1–L14, seeds 000 and 001).
//!
//! `sync` walks L1..L9 in order, first match wins. Every allowed sync ends
//! with a `touch` effect; a denial changes nothing. Before L1, a deleted
//! account (A6: "no login") syncs nothing: `ACCOUNT_DELETED`.
//!
//! The administrator's actions (L10–L13) are the Mobile Users pane's, which
//! the trial period doesn't have (L14: `NOT_AVAILABLE_IN_TRIAL`, checked
//! first). A deleted account's selectors are no longer the administrator's
//! to move: every action on one is `ACCOUNT_DELETED`.

use crate::decision::{Decision, Effect, Effects, Text};
use crate::model::{AccountState, Code, DAY, GrantedLicense, Instant, LicenseType, Named, Selector};
use crate::state::State;
use crate::users::UserRef;

/// The mobile app shows exactly these two messages.
pub const NOT_FOUND: &str = "LICENSE: NOT FOUND";
pub const EXPIRED: &str = "LICENSE: EXPIRED";

/// Rules L1–L9: may `u` synchronise at `now`? The `channel` does not
/// matter: web apps and web services consume licences like the mobile app.
pub fn sync(state: &State, u: UserRef, now: Instant) -> Decision {
    let settings = state.settings();

    if u.account == AccountState::Deleted {
        return Decision::deny(Code::AccountDeleted, "A6", "the account has been deleted: no sync");
    }
    if settings.trial {
        return granted("L1", GrantedLicense::Trial, u, now, Effects::new()).with_detail("trial period: nothing consumed");
    }
    if u.external {
        return if settings.licenses.external {
            granted("L2", GrantedLicense::External, u, now, Effects::new())
        } else {
            not_found("L2", "external user, and the organisation has no External licence")
        };
    }
    match u.held_license() {
        Some(LicenseType::Inspections) => return granted("L3", GrantedLicense::Inspections, u, now, Effects::new()),
        Some(LicenseType::Standard) => {
            return with_features(granted("L4", GrantedLicense::Standard, u, now, Effects::new()), state);
        }
        None => {}
    }
    if is_disabled(state, u) {
        return not_found(
            "L5",
            if u.inspections == Selector::Disabled {
                "both licences are disabled for this user"
            } else {
                "the standard licence, the one this project uses, is disabled for this user"
            },
        );
    }
    if settings.auto_assign {
        auto_assign(state, u, now)
    } else {
        temporary(state, u, now)
    }
}

/// Rule L5: every selector that could serve `u` on this project is red: on
/// an Inspections project both, on other projects Standard (Inspections is
/// never given there by auto-assignment).
pub fn is_disabled(state: &State, u: UserRef) -> bool {
    u.standard == Selector::Disabled && (!state.settings().inspections_enabled || u.inspections == Selector::Disabled)
}

/// Rule L6: the type `u` may claim: on an Inspections project Inspections,
/// unless `u`'s Inspections selector is red; otherwise Standard.
pub fn claimed(state: &State, u: UserRef) -> LicenseType {
    if state.settings().inspections_enabled && u.inspections != Selector::Disabled {
        LicenseType::Inspections
    } else {
        LicenseType::Standard
    }
}

/// Rules L6–L8: auto-assignment, freeing an inactive holder's licence if
/// needed. The type claimed is never disabled: L5 refused those users.
fn auto_assign(state: &State, u: UserRef, now: Instant) -> Decision {
    let settings = state.settings();
    let license = claimed(state, u);
    let name = license.name();
    let assign = Effect::Assign { user: u.ix, license, at: now };
    if state.free(license) > 0 {
        return with_features(granted("L6", grant(license), u, now, Effects::from_iter([assign])), state);
    }
    if settings.auto_free {
        let cutoff = now.saturating_sub(inactive_for(state));
        if let Some(idle) = state.oldest_inactive_holder(license, cutoff) {
            let free = Effect::Free { user: idle.ix, license };
            let detail = format!("freed from `{}`, inactive for at least {} days", idle.id(), settings.inactive_days);
            let effects = Effects::from_iter([free, assign]);
            return with_features(granted("L7", grant(license), u, now, effects), state).with_detail(detail);
        }
    }
    if !settings.auto_free {
        return not_found("L8", format!("no free {name} licence"));
    }
    let why = format!("no free {name} licence, and no holder inactive for {} days", settings.inactive_days);
    // L7 frees a licence once the longest-idle holder has been idle long enough.
    match state.oldest_inactive_holder(license, Instant::MAX).and_then(|h| h.inactivity_instant()) {
        Some(since) => not_found("L8", why).until(since.saturating_add(inactive_for(state))),
        None => not_found("L8", why),
    }
}

/// How long a holder must have been idle for auto-free to take the licence (L7).
pub fn inactive_for(state: &State) -> Instant {
    i64::from(state.settings().inactive_days) * DAY
}

/// Rule L9: a pending user gets a temporary licence for `temporary_days`.
fn temporary(state: &State, u: UserRef, now: Instant) -> Decision {
    let days = i64::from(state.settings().temporary_days);
    let (since, effects) = match u.temporary_since() {
        Some(since) => (since, Effects::new()),
        None => (now, Effects::from_iter([Effect::StartTemporary { user: u.ix, at: now }])),
    };
    let expires_at = crate::model::clamp_instant(since.saturating_add(days * DAY));
    if now >= expires_at {
        let mut d = Decision::deny(Code::LicenseExpired, "L9", EXPIRED)
            .with_detail(format!("the temporary licence of {days} days has ended; assign a licence"));
        d.expires_at = Some(expires_at);
        return d;
    }
    let mut d = granted("L9", GrantedLicense::Temporary, u, now, effects);
    d.expires_at = Some(expires_at);
    // A running temporary licence holds until it ends; a new one starts
    // wherever the event falls.
    if u.temporary_since().is_some() { d.until(expires_at) } else { d }
}

/// Rule L14, then a deleted account: why the administrator can't act on
/// `u`'s licences at all (`rule` names the action's rule).
fn pane_refusal(state: &State, u: UserRef, rule: &'static str) -> Option<Decision> {
    if state.settings().trial {
        return Some(Decision::deny(
            Code::NotAvailableInTrial,
            "L14",
            "the Mobile Users pane is not available during the trial period: licences are not managed yet",
        ));
    }
    if u.account == AccountState::Deleted {
        return Some(Decision::deny(Code::AccountDeleted, rule, format!("user `{}` is deleted: no licence to manage", u.id())));
    }
    None
}

/// Rule L10: the administrator switches `license` to green for `u`.
/// Refused during the trial (L14), for a deleted account, and for an
/// external user, whom only the External licence serves.
pub fn assign(state: &State, u: UserRef, license: LicenseType, now: Instant) -> Decision {
    if let Some(refusal) = pane_refusal(state, u, "L10") {
        return refusal;
    }
    let name = license.name();
    if u.external {
        return Decision::deny(
            Code::InvalidUser,
            "L10",
            format!("user `{}` is external: only the organisation's External licence serves external users", u.id()),
        );
    }
    if u.selector(license) == Selector::Assigned {
        return Decision::allow("L10", format!("the {name} licence is already assigned"));
    }
    if state.free(license) == 0 {
        let purchased = state.settings().licenses.purchased(license);
        return Decision::deny(
            Code::NoLicenseAvailable,
            "L10",
            format!("no {name} licence available: all {purchased} are assigned"),
        );
    }
    let mut effects = Effects::new();
    let other = license.other();
    if u.selector(other) == Selector::Assigned {
        effects.push(Effect::Unassign { user: u.ix, license: other });
    }
    effects.push(Effect::Assign { user: u.ix, license, at: now });
    Decision::allow("L10", format!("{name} licence assigned")).with_effects(effects)
}

/// Rule L11: the selector goes back to grey, freeing the licence.
pub fn unassign(state: &State, u: UserRef, license: LicenseType) -> Decision {
    pane_refusal(state, u, "L11").unwrap_or_else(|| selector_change(u, license, Selector::Unassigned, "L11"))
}

/// Rule L12: the selector goes to red, freeing the licence and blocking
/// auto-assignment of that type.
pub fn disable(state: &State, u: UserRef, license: LicenseType) -> Decision {
    pane_refusal(state, u, "L12").unwrap_or_else(|| selector_change(u, license, Selector::Disabled, "L12"))
}

/// Rule L13: the Mobile Users pane's delete. `u`'s mobile record starts
/// over: a held licence is freed (`unassign`), then both selectors go grey
/// and the temporary licence, last sync and assignment instants are
/// cleared (`reset_mobile_user`), so the next sync is a first sync. The
/// panel account is not touched. A record already blank changes nothing.
pub fn remove_mobile_user(state: &State, u: UserRef) -> Decision {
    if let Some(refusal) = pane_refusal(state, u, "L13") {
        return refusal;
    }
    let blank = u.standard == Selector::Unassigned
        && u.inspections == Selector::Unassigned
        && u.temporary_since().is_none()
        && u.last_sync().is_none()
        && u.assigned_at().is_none();
    if blank {
        return Decision::allow("L13", format!("user `{}` has no mobile record to remove", u.id()));
    }
    let mut effects = Effects::new();
    let mut message = format!("user `{}` removed from Mobile Users; the next sync starts over", u.id());
    if let Some(license) = u.held_license() {
        effects.push(Effect::Unassign { user: u.ix, license });
        message = format!("user `{}` removed from Mobile Users, freeing a {} licence; the next sync starts over", u.id(), license.name());
    }
    effects.push(Effect::ResetMobileUser { user: u.ix });
    Decision::allow("L13", message).with_effects(effects)
}

fn selector_change(u: UserRef, license: LicenseType, to: Selector, rule: &'static str) -> Decision {
    let (name, from) = (license.name(), u.selector(license));
    let word = if to == Selector::Disabled { "disabled" } else { "unassigned" };
    if from == to {
        return Decision::allow(rule, format!("the {name} licence is already {word}"));
    }
    let effect = if to == Selector::Disabled {
        Effect::Disable { user: u.ix, license }
    } else {
        Effect::Unassign { user: u.ix, license }
    };
    let freed = if from == Selector::Assigned { ", freeing it" } else { "" };
    Decision::allow(rule, format!("{name} licence {word}{freed}")).with_effects(vec![effect])
}

fn grant(license: LicenseType) -> GrantedLicense {
    match license {
        LicenseType::Standard => GrantedLicense::Standard,
        LicenseType::Inspections => GrantedLicense::Inspections,
    }
}

/// An allowed sync: `effects`, then `touch`.
fn granted(rule: &'static str, license: GrantedLicense, u: UserRef, now: Instant, mut effects: Effects) -> Decision {
    effects.push(Effect::Touch { user: u.ix, at: now });
    let message = match license {
        GrantedLicense::Trial => "sync allowed: trial licence",
        GrantedLicense::External => "sync allowed: external licence",
        GrantedLicense::Inspections => "sync allowed: inspections licence",
        GrantedLicense::Standard => "sync allowed: standard licence",
        GrantedLicense::Temporary => "sync allowed: temporary licence",
    };
    let mut d = Decision::allow(rule, message);
    d.effects = effects;
    d.license = Some(license);
    d
}

/// A Standard licence on an Inspections project lacks the Inspections features.
fn with_features(mut d: Decision, state: &State) -> Decision {
    if d.license == Some(GrantedLicense::Standard) && state.settings().inspections_enabled {
        d.inspections_features = Some(false);
    }
    d
}

fn not_found(rule: &'static str, detail: impl Into<Text>) -> Decision {
    Decision::deny(Code::LicenseNotFound, rule, NOT_FOUND).with_detail(detail)
}
