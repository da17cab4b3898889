//! Seats and sessions: activation, logins, the administrator's "close"
//! button (rules S1–S5, seed 002).
//!
//! - S1 `activate`: an active account takes a seat; there are
//!   `max_active_users` of them, and an account needs a password to take one.
//! - S2 `deactivate`: frees the seat; the open session stays until logout and
//!   the password is kept.
//! - S3 `login`: refused by account state; one live session per account. A
//!   session idle for `idle_logout_minutes` or more is not live: the next
//!   login ends it first (`end_session`, then `start_session`).
//! - S4 `close_session`: the administrator may close a session only once its
//!   tab is gone or it has gone idle (`SESSION_IN_USE` otherwise).
//! - S5 `activity` (a heartbeat) and `logout`.
//!
//! Blocked and deleted accounts hold no seat; their refusals name A5 and A6.
//! Events that find nothing to do (activating an active account, logging out
//! with no session) are allowed with no effects.

use crate::decision::{Decision, Effect, deleted};
use crate::model::{AccountState, Code, Instant, MINUTE};
use crate::state::{OpenSession, State};
use crate::users::UserRef;

/// Rule S1: the administrator activates `u`'s account.
pub fn activate(state: &State, u: UserRef) -> Decision {
    match u.account {
        AccountState::Active => Decision::allow("S1", "the account is already active"),
        AccountState::Deleted => deleted("A6"),
        AccountState::Blocked => {
            Decision::deny(Code::AccountBlocked, "A5", "the account is blocked; unblock it to make it active again")
        }
        AccountState::Inactive => match activation_refusal(state, u.has_password) {
            Some(refusal) => refusal,
            None => Decision::allow("S1", seats_message("account activated", state.active_accounts() + 1, state))
                .with_effects([set_state(u, AccountState::Active)]),
        },
    }
}

/// Rule S1's two conditions for an account to become active: a free seat,
/// then a password. `None` when both hold. Shared with `unblock_user` and
/// `create_user`, which also make an account active.
pub(crate) fn activation_refusal(state: &State, has_password: bool) -> Option<Decision> {
    let (active, max) = (state.active_accounts(), state.settings().max_active_users);
    if let Some(max) = max.filter(|&max| active >= max) {
        return Some(Decision::deny(
            Code::SeatLimitReached,
            "S1",
            format!("all {max} active user accounts are in use; deactivate an account first"),
        ));
    }
    if !has_password {
        return Some(Decision::deny(Code::PasswordRequired, "S1", "the account has no password; generate one first"));
    }
    None
}

/// Rule S2: the administrator deactivates `u`'s account, freeing its seat.
/// An open session stays until logout (no `end_session`); the password is kept.
pub fn deactivate(state: &State, u: UserRef) -> Decision {
    match u.account {
        AccountState::Inactive => Decision::allow("S2", "the account is already inactive"),
        AccountState::Deleted => deleted("A6"),
        AccountState::Blocked => Decision::deny(
            Code::AccountBlocked,
            "A5",
            "the account is blocked and holds no seat; unblock it to change its state",
        ),
        AccountState::Active => {
            let mut message = seats_message("account deactivated", state.active_accounts().saturating_sub(1), state);
            if state.session(u.ix).is_some() {
                message.push_str("; the open session stays until logout");
            }
            Decision::allow("S2", message).with_effects([set_state(u, AccountState::Inactive)])
        }
    }
}

/// Rule S3: `u` logs in to the panel at `now`. Refused by account state
/// first (deleted, blocked, inactive, no password), then while `u` has a
/// live session. An idle session is ended first, then the login starts a
/// new one (S5: `tab_open`, `last_activity = now`).
pub fn login(state: &State, u: UserRef, now: Instant) -> Decision {
    match u.account {
        AccountState::Deleted => return Decision::deny(Code::AccountDeleted, "S3", "the account has been deleted"),
        AccountState::Blocked => return Decision::deny(Code::AccountBlocked, "S3", "the account is blocked"),
        AccountState::Inactive => return Decision::deny(Code::AccountInactive, "S3", "the account is inactive"),
        AccountState::Active => {}
    }
    if !u.has_password {
        return Decision::deny(Code::PasswordRequired, "S3", "the account has no password yet");
    }
    let start = Effect::StartSession { user: u.ix, at: now };
    match state.session(u.ix) {
        None => Decision::allow("S3", "logged in").with_effects(vec![start]),
        Some(session) if is_live(state, session, now) => {
            Decision::deny(Code::AlreadyLoggedIn, "S3", "already logged in: one login at a time per account")
                .with_detail(format!(
                    "the open session has been idle {} (logged out automatically at {} minutes)",
                    idle_text(session, now),
                    state.settings().idle_logout_minutes
                ))
                .until(idle_at(state, session))
        }
        Some(session) => Decision::allow("S3", "logged in; the previous, idle session was ended")
            .with_detail(format!(
                "the previous session had been idle {} (limit {} minutes)",
                idle_text(session, now),
                state.settings().idle_logout_minutes
            ))
            .with_effects([Effect::EndSession { user: u.ix }, start]),
    }
}

/// Rule S5: `u` logs out. Nothing to do without an open session.
pub fn logout(state: &State, u: UserRef) -> Decision {
    match state.session(u.ix) {
        Some(_) => Decision::allow("S5", "logged out").with_effects([Effect::EndSession { user: u.ix }]),
        None => Decision::allow("S5", "no open session: nothing to log out"),
    }
}

/// Rule S5: a heartbeat from `u`'s browser tab records `last_activity` and
/// whether the tab is open. A session already idle past the limit is over:
/// the heartbeat ends it rather than reviving it.
pub fn activity(state: &State, u: UserRef, tab_open: bool, now: Instant) -> Decision {
    if u.account == AccountState::Deleted {
        return deleted("A6");
    }
    match state.session(u.ix) {
        None => Decision::allow("S5", "no open session: nothing recorded"),
        Some(session) if is_live(state, session, now) => Decision::allow("S5", "activity recorded")
            .with_effects([Effect::RecordActivity { user: u.ix, at: now, tab_open }])
            .until(idle_at(state, session)),
        Some(session) => Decision::allow("S5", "the session had gone idle and has ended; log in again")
            .with_detail(format!(
                "idle {} (limit {} minutes)",
                idle_text(session, now),
                state.settings().idle_logout_minutes
            ))
            .with_effects([Effect::EndSession { user: u.ix }]),
    }
}

/// Rule S4: the administrator closes `u`'s session. Refused while the tab
/// is open and the session is live, so nobody loses unsaved work.
pub fn close_session(state: &State, u: UserRef, now: Instant) -> Decision {
    match state.session(u.ix) {
        None => Decision::allow("S4", "no open session: nothing to close"),
        Some(session) if session.tab_open && is_live(state, session, now) => {
            Decision::deny(Code::SessionInUse, "S4", "the session is in use: the user's tab is open and active")
                .with_detail(format!("last activity {} ago", idle_text(session, now)))
                .until(idle_at(state, session))
        }
        Some(session) => {
            let why = if session.tab_open { "it had gone idle" } else { "its tab is closed" };
            Decision::allow("S4", format!("session closed: {why}")).with_effects([Effect::EndSession { user: u.ix }])
        }
    }
}

/// Rule S3: a session is live while idle for less than `idle_logout_minutes`.
/// Exactly the limit is no longer live.
pub fn is_live(state: &State, session: &OpenSession, now: Instant) -> bool {
    now < idle_at(state, session)
}

/// Rule S3: the instant `session` stops being live, `idle_logout_minutes`
/// after its last activity.
pub fn idle_at(state: &State, session: &OpenSession) -> Instant {
    session.last_activity.saturating_add(i64::from(state.settings().idle_logout_minutes) * MINUTE)
}

/// "12 min 5 s": how long the session has been idle at `now`.
fn idle_text(session: &OpenSession, now: Instant) -> String {
    let idle = now.saturating_sub(session.last_activity).max(0);
    match (idle / MINUTE, idle % MINUTE) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

fn seats_message(what: &str, active: u32, state: &State) -> String {
    match state.settings().max_active_users {
        Some(max) => format!("{what}: {active} of {max} active accounts"),
        None if active == 1 => format!("{what}: 1 active account"),
        None => format!("{what}: {active} active accounts"),
    }
}

fn set_state(u: UserRef, to: AccountState) -> Effect {
    Effect::SetState { user: u.ix, state: to }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::effect_records;
    use crate::model::{self, ActivityAt, OrgState, Settings, User, UserInstant};

    const T0: Instant = 1_795_341_600; // 2026-11-22T10:00:00Z

    fn user(id: &str, account: AccountState, has_password: bool) -> User {
        User { account, has_password, ..User::new(id) }
    }

    fn org(max: u32, users: Vec<User>) -> State {
        let settings = Settings { max_active_users: Some(max), ..Settings::default() };
        State::load(OrgState { settings, users, groups: vec![], sessions: vec![] }).expect("a consistent state")
    }

    fn step(state: &mut State, d: &Decision) {
        state.apply(&d.effects).expect("effects apply");
    }

    fn u<'a>(state: &'a State, id: &str) -> UserRef<'a> {
        state.user(id).expect("user exists")
    }

    #[test]
    fn s1_activation_stops_at_the_seat_limit_and_needs_a_password() {
        let mut s = org(
            2,
            vec![
                user("a", AccountState::Active, true),
                user("b", AccountState::Inactive, true),
                user("c", AccountState::Inactive, true),
                user("d", AccountState::Inactive, false),
            ],
        );
        let d = activate(&s, u(&s, "b"));
        assert!(d.allow, "the last seat: {d:?}");
        assert_eq!(d.message, "account activated: 2 of 2 active accounts");
        step(&mut s, &d);
        assert_eq!(s.active_accounts(), 2);

        let d = activate(&s, u(&s, "c"));
        assert_eq!((d.allow, d.code, d.rule), (false, Code::SeatLimitReached, "S1"));
        assert!(d.effects.is_empty());

        let d = deactivate(&s, u(&s, "a"));
        step(&mut s, &d);
        let d = activate(&s, u(&s, "d"));
        assert_eq!(d.code, Code::PasswordRequired);
        // Seat first, then password.
        {
            let d = activate(&s, u(&s, "c"));
            step(&mut s, &d);
        }
        assert_eq!(activate(&s, u(&s, "d")).code, Code::SeatLimitReached);

        let again = activate(&s, u(&s, "c"));
        assert!(again.allow && again.effects.is_empty());
    }

    #[test]
    fn s1_blocked_and_deleted_accounts_are_not_activated() {
        let s = org(5, vec![user("b", AccountState::Blocked, true), user("x", AccountState::Deleted, true)]);
        assert_eq!(activate(&s, u(&s, "b")).code, Code::AccountBlocked);
        assert_eq!(activate(&s, u(&s, "x")).code, Code::AccountDeleted);
        assert_eq!(deactivate(&s, u(&s, "b")).code, Code::AccountBlocked);
        assert_eq!(deactivate(&s, u(&s, "x")).code, Code::AccountDeleted);
    }

    #[test]
    fn s2_deactivation_keeps_the_session_and_the_password() {
        let mut s = org(1, vec![user("a", AccountState::Active, true)]);
        {
            let d = login(&s, u(&s, "a"), T0);
            step(&mut s, &d);
        }
        let d = deactivate(&s, u(&s, "a"));
        assert_eq!(d.effects.as_slice(), [set_state(u(&s, "a"), AccountState::Inactive)]);
        step(&mut s, &d);
        assert!(s.session(u(&s, "a").ix).is_some());
        assert!(u(&s, "a").has_password);
        assert_eq!(login(&s, u(&s, "a"), T0 + 60).code, Code::AccountInactive);
        assert!(activate(&s, u(&s, "a")).allow);
    }

    #[test]
    fn s3_login_is_refused_by_state() {
        let s = org(
            5,
            vec![
                user("i", AccountState::Inactive, true),
                user("b", AccountState::Blocked, true),
                user("x", AccountState::Deleted, true),
                user("n", AccountState::Active, false),
            ],
        );
        assert_eq!(login(&s, u(&s, "i"), T0).code, Code::AccountInactive);
        assert_eq!(login(&s, u(&s, "b"), T0).code, Code::AccountBlocked);
        assert_eq!(login(&s, u(&s, "x"), T0).code, Code::AccountDeleted);
        assert_eq!(login(&s, u(&s, "n"), T0).code, Code::PasswordRequired);
    }

    #[test]
    fn s3_one_live_session_and_the_idle_boundary() {
        let mut s = org(5, vec![user("a", AccountState::Active, true)]);
        let d = login(&s, u(&s, "a"), T0);
        assert_eq!(effect_records(&d, &s), vec![model::Effect::StartSession(UserInstant { user: "a".into(), at: T0 })]);
        step(&mut s, &d);
        assert_eq!(s.session(u(&s, "a").ix).map(|x| (x.last_activity, x.tab_open)), Some((T0, true)));

        // 29 min 59 s idle: still live.
        let d = login(&s, u(&s, "a"), T0 + 30 * MINUTE - 1);
        assert_eq!((d.allow, d.code), (false, Code::AlreadyLoggedIn));
        assert_eq!(
            d.detail.as_deref(),
            Some("the open session has been idle 29 min 59 s (logged out automatically at 30 minutes)")
        );

        // Exactly 30 minutes: not live, ended first.
        let d = login(&s, u(&s, "a"), T0 + 30 * MINUTE);
        assert!(d.allow);
        assert_eq!(
            effect_records(&d, &s),
            vec![
                model::Effect::EndSession("a".into()),
                model::Effect::StartSession(UserInstant { user: "a".into(), at: T0 + 30 * MINUTE })
            ]
        );
        step(&mut s, &d);
        assert_eq!(s.session(u(&s, "a").ix).map(|x| x.login_at), Some(T0 + 30 * MINUTE));
    }

    #[test]
    fn s3_activity_keeps_a_session_live() {
        let mut s = org(5, vec![user("a", AccountState::Active, true)]);
        {
            let d = login(&s, u(&s, "a"), T0);
            step(&mut s, &d);
        }
        {
            let d = activity(&s, u(&s, "a"), true, T0 + 20 * MINUTE);
            step(&mut s, &d);
        }
        assert_eq!(login(&s, u(&s, "a"), T0 + 45 * MINUTE).code, Code::AlreadyLoggedIn);
        assert!(login(&s, u(&s, "a"), T0 + 50 * MINUTE).allow);
    }

    #[test]
    fn s4_close_only_a_closed_tab_or_an_idle_session() {
        let mut s = org(5, vec![user("a", AccountState::Active, true)]);
        assert!(close_session(&s, u(&s, "a"), T0).effects.is_empty());
        {
            let d = login(&s, u(&s, "a"), T0);
            step(&mut s, &d);
        }
        let d = close_session(&s, u(&s, "a"), T0 + 30 * MINUTE - 1);
        assert_eq!((d.allow, d.code, d.rule), (false, Code::SessionInUse, "S4"));
        let d = close_session(&s, u(&s, "a"), T0 + 30 * MINUTE);
        assert_eq!(effect_records(&d, &s), vec![model::Effect::EndSession("a".into())]);
        assert_eq!(d.message, "session closed: it had gone idle");

        {
            let d = activity(&s, u(&s, "a"), false, T0 + MINUTE);
            step(&mut s, &d);
        }
        let d = close_session(&s, u(&s, "a"), T0 + 2 * MINUTE);
        assert_eq!((d.allow, d.message.as_ref()), (true, "session closed: its tab is closed"));
        step(&mut s, &d);
        assert!(s.session(u(&s, "a").ix).is_none());
    }

    #[test]
    fn s5_activity_and_logout() {
        let mut s = org(5, vec![user("a", AccountState::Active, true)]);
        let none = activity(&s, u(&s, "a"), true, T0);
        assert!(none.allow && none.effects.is_empty());
        assert!(logout(&s, u(&s, "a")).effects.is_empty());

        {
            let d = login(&s, u(&s, "a"), T0);
            step(&mut s, &d);
        }
        let d = activity(&s, u(&s, "a"), false, T0 + 5 * MINUTE);
        assert_eq!(
            effect_records(&d, &s),
            vec![model::Effect::RecordActivity(ActivityAt { user: "a".into(), at: T0 + 5 * MINUTE, tab_open: false })]
        );
        step(&mut s, &d);
        // Idle past the limit: the heartbeat ends the session.
        let d = activity(&s, u(&s, "a"), true, T0 + 35 * MINUTE);
        assert_eq!(effect_records(&d, &s), vec![model::Effect::EndSession("a".into())]);

        let d = logout(&s, u(&s, "a"));
        assert_eq!(effect_records(&d, &s), vec![model::Effect::EndSession("a".into())]);
        step(&mut s, &d);
        assert!(s.session(u(&s, "a").ix).is_none());
    }

    #[test]
    fn idle_is_spelled_for_admins() {
        let session = OpenSession { login_at: T0, last_activity: T0, tab_open: true };
        assert_eq!(idle_text(&session, T0 + 5), "5 s");
        assert_eq!(idle_text(&session, T0 + 120), "2 min");
        assert_eq!(idle_text(&session, T0 + 125), "2 min 5 s");
        assert_eq!(idle_text(&session, T0 - 10), "0 s");
    }
}
