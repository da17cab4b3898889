//! The organisation as a whole: what it uses and who is logged in (rules
//! O2, O3), queries that change nothing.

use crate::model::{AccountState, DAY, Instant, LicenseType, LicenseUsage, Usage};
use crate::seats;
use crate::state::State;

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
