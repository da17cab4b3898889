//! The organisation as a whole: its settings (rule O1), what it uses and
//! who is logged in (O2, O3, queries that change nothing).

use crate::decision::{Decision, Effect};
use crate::model::{
    AccountState, Code, DAY, Instant, LicenseType, LicenseUsage, Named, SessionStatus, Settings, SettingsChange, Usage,
};
use crate::seats;
use crate::state::{State, change_settings, check_settings};

/// Rule O1: the organisation's settings change as `change` says. Refused
/// with `INVALID_SETTINGS`, every problem listed, when the result is
/// inconsistent: a value out of its range, fewer licences of a type
/// purchased than are assigned, fewer seats than active accounts. Otherwise
/// the settings that really change are the `set_settings` effect. Turning
/// `auto_assign` on assigns nothing until the next sync. None of these
/// settings enters a user's effective configuration (F2: plan, features and
/// app toggles), so no user is listed.
pub fn set_settings(state: &State, change: &SettingsChange) -> Decision {
    let old = state.settings();
    let mut new = old.clone();
    change_settings(&mut new, change);
    let mut problems: Vec<String> =
        check_settings(&new).into_iter().map(|p| format!("{}: {}", p.field.trim_start_matches("settings."), p.message)).collect();
    for license in LicenseType::ALL {
        let (assigned, purchased) = (state.assigned(license), new.licenses.purchased(license));
        if assigned > purchased {
            problems.push(format!(
                "licenses.{}: {assigned} {} licences are assigned but {purchased} would be purchased ({} over); unassign licences first",
                license.name(),
                license.name(),
                assigned - purchased
            ));
        }
    }
    if let Some(max) = new.max_active_users.filter(|&max| state.active_accounts() > max) {
        problems.push(format!(
            "max_active_users: {} accounts are active but {max} seats would be purchased; deactivate accounts first",
            state.active_accounts()
        ));
    }
    if !problems.is_empty() {
        let n = problems.len();
        let mut d = Decision::deny(
            Code::InvalidSettings,
            "O1",
            format!("settings not changed: {n} problem{}: {}", if n == 1 { "" } else { "s" }, problems.join("; ")),
        );
        d.violations = problems;
        return d;
    }
    let changed = only_changes(old, change);
    let names = changed_names(&changed);
    if names.is_empty() {
        return Decision::allow("O1", "settings unchanged");
    }
    let mut d = Decision::allow("O1", format!("settings changed: {}", names.join(", ")))
        .with_effects([Effect::SetSettings(Box::new(changed))]);
    if change.auto_assign == Some(true) && !old.auto_assign {
        d = d.with_detail("auto-assignment is on: licences are assigned as users next synchronise");
    }
    d
}

/// The part of `change` that differs from `old`.
fn only_changes(old: &Settings, change: &SettingsChange) -> SettingsChange {
    fn differs<T: PartialEq + Clone>(value: &Option<T>, now: &T) -> Option<T> {
        value.as_ref().filter(|v| *v != now).cloned()
    }
    SettingsChange {
        trial: differs(&change.trial, &old.trial),
        standard_licenses: differs(&change.standard_licenses, &old.licenses.standard),
        inspections_licenses: differs(&change.inspections_licenses, &old.licenses.inspections),
        external_license: differs(&change.external_license, &old.licenses.external),
        inspections_enabled: differs(&change.inspections_enabled, &old.inspections_enabled),
        auto_assign: differs(&change.auto_assign, &old.auto_assign),
        auto_free: differs(&change.auto_free, &old.auto_free),
        temporary_days: differs(&change.temporary_days, &old.temporary_days),
        inactive_days: differs(&change.inactive_days, &old.inactive_days),
        max_active_users: change.max_active_users.filter(|&m| old.max_active_users != Some(m)),
        idle_logout_minutes: differs(&change.idle_logout_minutes, &old.idle_logout_minutes),
        home_country_code: differs(&change.home_country_code, &old.home_country_code),
        billing_day: differs(&change.billing_day, &old.billing_day),
    }
}

/// The scenario names of the settings `change` sets, in the order of `org`.
pub fn changed_names(change: &SettingsChange) -> Vec<&'static str> {
    let given = [
        ("trial", change.trial.is_some()),
        ("licenses.standard", change.standard_licenses.is_some()),
        ("licenses.inspections", change.inspections_licenses.is_some()),
        ("licenses.external", change.external_license.is_some()),
        ("inspections_enabled", change.inspections_enabled.is_some()),
        ("auto_assign", change.auto_assign.is_some()),
        ("auto_free", change.auto_free.is_some()),
        ("temporary_days", change.temporary_days.is_some()),
        ("inactive_days", change.inactive_days.is_some()),
        ("max_active_users", change.max_active_users.is_some()),
        ("idle_logout_minutes", change.idle_logout_minutes.is_some()),
        ("home_country_code", change.home_country_code.is_some()),
        ("billing_day", change.billing_day.is_some()),
    ];
    given.into_iter().filter(|(_, set)| *set).map(|(name, _)| name).collect()
}

/// Rule O3: every open session at `at`, in the order of the users, with its
/// idle time (seconds since the last activity, 0 when `at` is before it)
/// and whether it is still live (S3).
pub fn sessions(state: &State, at: Instant) -> Vec<SessionStatus> {
    state
        .sessions()
        .map(|(ix, s)| SessionStatus {
            user: state.users().get(ix).id().to_string(),
            login_at: s.login_at,
            last_activity: s.last_activity,
            tab_open: s.tab_open,
            idle_seconds: at.saturating_sub(s.last_activity).clamp(0, i64::from(u32::MAX)) as u32,
            live: seats::is_live(state, s, at),
        })
        .collect()
}

/// Rule O2: licences purchased, assigned and free per type; the External
/// licence; users pending on a temporary licence and users whose temporary
/// licence has ended (neither holding a licence, nor external, nor
/// deleted); active accounts against the seat limit; sessions live at `at`.
pub fn usage(state: &State, at: Instant) -> Usage {
    let settings = state.settings();
    let licenses = LicenseType::ALL
        .into_iter()
        .map(|license| LicenseUsage {
            license,
            purchased: settings.licenses.purchased(license),
            assigned: state.assigned(license),
            free: state.free(license),
        })
        .collect();
    let length = i64::from(settings.temporary_days) * DAY;
    let (mut pending, mut expired) = (0, 0);
    for u in state.users().iter() {
        let Some(since) = u.temporary_since() else { continue };
        if u.held_license().is_some() || u.external || u.account == AccountState::Deleted {
            continue;
        }
        if at < since.saturating_add(length) {
            pending += 1;
        } else {
            expired += 1;
        }
    }
    let live_sessions = state.sessions().filter(|(_, s)| seats::is_live(state, s, at)).count() as u32;
    Usage {
        at,
        licenses,
        external: settings.licenses.external,
        pending,
        expired,
        active_accounts: state.active_accounts(),
        max_active_users: settings.max_active_users,
        live_sessions,
    }
}
