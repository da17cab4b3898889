//! Decisions that say what would change them (issue 16), checked natively:
//! `valid_until` is exact and every remedy `explain` offers works.
//!
//! The examples first, each a situation an administrator meets; then the
//! property test (proptest, in the style of `tests/invariants.rs`) over
//! generated organisations and events of every kind with a time rule or a
//! remedy, and a seeded run over 300 of them that counts what it met.
//! `PROPTEST_CASES=N` runs more cases.

use std::collections::BTreeMap;

mod common;

use common::draws::{Draws, Rng};
use proptest::prelude::*;
use turnstile_policy::Org;
use turnstile_policy::calendar::parse_rfc3339;
use turnstile_policy::model::{
    no_change, AccountState, ActivityEvent, CallEvent, Channel, Code, CountryFilter, Direction, EditUserEvent, Event, EventKind,
    FeatureSet, Features, Group, GroupAction, GroupKind, LAST_INSTANT, LicenseEvent, LicenseType, Licenses, OrgState,
    PasswordEvent, SaveFeaturesEvent, Selector, Session, Settings, SmsEvent, SyncEvent, User, UserAction,
};
use turnstile_policy::remedies::Remedy;

const DAY: i64 = 86_400;
const MINUTE: i64 = 60;

fn at(text: &str) -> i64 {
    parse_rfc3339(text).expect("an RFC 3339 instant")
}

fn event(at: i64, kind: EventKind) -> Event {
    Event { at, kind }
}

fn sync(user: &str) -> EventKind {
    EventKind::Sync(SyncEvent { user: user.into(), channel: Channel::Mobile })
}

fn holder(id: &str, last_sync: &str) -> User {
    User { standard: Selector::Assigned, last_sync: Some(at(last_sync)), ..User::new(id) }
}

fn load(settings: Settings, users: Vec<User>, sessions: Vec<Session>) -> Org {
    Org::load(OrgState { settings, users, groups: Vec::new(), sessions }).expect("a consistent state")
}

/// What every offered remedy must do: on a copy of the organisation each
/// of its events is allowed, and then the denied event is, with exactly
/// the decision the remedy promised. Blank passwords are filled in, as a
/// host would.
fn check_remedy(org: &Org, denied: &Event, remedy: &Remedy, context: &str) {
    let mut copy = org.clone();
    for e in &remedy.events {
        let mut e = e.clone();
        if let EventKind::SetPassword(p) = &mut e.kind {
            assert!(p.password.is_empty() && p.confirm.is_empty(), "{context}: a remedy made up a password");
            p.password = "Chosen-by-host9!".into();
            p.confirm = p.password.clone();
        }
        let d = copy.step(&e);
        assert!(d.allow, "{context}: remedy `{}`: its event {:?} is denied: {d:?}", remedy.summary, e.kind);
    }
    let again = Event { at: remedy.wait_until.unwrap_or(denied.at), kind: denied.kind.clone() };
    let d = copy.step(&again);
    assert!(d.allow, "{context}: remedy `{}` doesn't let {:?} through: {d:?}", remedy.summary, denied.kind);
    assert_eq!(d, remedy.decision, "{context}: remedy `{}` promised another decision", remedy.summary);
}

/// `explain`, with every remedy checked and the state left as it was.
fn explain(org: &mut Org, e: &Event) -> Vec<Remedy> {
    let before = org.snapshot();
    let remedies = org.explain(e);
    assert_eq!(org.snapshot(), before, "explain changed the state");
    for r in &remedies {
        check_remedy(org, e, r, "example");
    }
    let sizes: Vec<usize> = remedies.iter().map(|r| r.events.len()).collect();
    assert!(sizes.is_sorted(), "smallest first: {sizes:?}");
    remedies
}

fn summaries(remedies: &[Remedy]) -> Vec<&str> {
    remedies.iter().map(|r| r.summary.as_str()).collect()
}

/// The README's example: Bob's temporary licence ran out after two weeks.
#[test]
fn bob_locked_out_after_two_weeks() {
    let mut settings = Settings::default();
    settings.licenses.standard = 3;
    let bob = User { temporary_since: Some(at("2026-11-01T09:00:00Z")), ..User::new("bob") };
    let users = vec![
        holder("pete", "2026-11-20T08:00:00Z"),
        holder("gina", "2026-11-19T17:00:00Z"),
        holder("ralf", "2026-07-01T12:00:00Z"),
        bob,
    ];
    let mut org = load(settings, users, vec![]);

    // On 10 November Bob syncs on his temporary licence, which holds until it ends.
    let d = org.judge(&event(at("2026-11-10T09:00:00Z"), sync("bob")));
    assert_eq!((d.allow, d.rule, d.valid_until), (true, "L9", Some(at("2026-11-15T09:00:00Z"))));

    let locked = event(at("2026-11-22T10:00:00Z"), sync("bob"));
    let d = org.judge(&locked);
    assert_eq!((d.allow, d.code, d.valid_until), (false, Code::LicenseExpired, None), "only another event helps");
    let remedies = explain(&mut org, &locked);
    assert_eq!(
        summaries(&remedies),
        [
            "Remove `bob` from Mobile Users, so that the next sync starts a new temporary licence.",
            "Unassign the standard licence of `ralf`, idle for 143 days, and assign it to `bob`.",
            "Buy one more standard licence (4 in all), and assign it to `bob`.",
        ]
    );
    assert_eq!(remedies[1].decision.rule, "L4");
    assert_eq!(
        remedies[1].events.iter().map(|e| e.kind.clone()).collect::<Vec<_>>(),
        [
            EventKind::Unassign(LicenseEvent { user: "ralf".into(), license: LicenseType::Standard }),
            EventKind::Assign(LicenseEvent { user: "bob".into(), license: LicenseType::Standard }),
        ]
    );
    assert_eq!(remedies[0].decision.license.map(|_| remedies[0].decision.rule.as_str()), Some("L9"));
}

#[test]
fn no_free_licence_waits_for_the_longest_idle_holder() {
    let mut settings = Settings { auto_assign: true, auto_free: true, ..Settings::default() };
    settings.licenses.standard = 2;
    let users = vec![holder("gina", "2026-11-01T00:00:00Z"), holder("ralf", "2026-10-01T00:00:00Z"), User::new("anna")];
    let mut org = load(settings.clone(), users.clone(), vec![]);
    let e = event(at("2026-11-22T10:00:00Z"), sync("anna"));
    let d = org.judge(&e);
    // Ralf, idle since 1 October, reaches 90 days on 30 December: L7 then frees his licence.
    assert_eq!((d.code, d.rule, d.valid_until), (Code::LicenseNotFound, "L8", Some(at("2026-12-30T00:00:00Z"))));
    let later = org.judge(&event(at("2026-12-30T00:00:00Z"), sync("anna")));
    assert_eq!((later.allow, later.rule), (true, "L7"));
    assert_eq!(
        summaries(&explain(&mut org, &e)),
        [
            "Unassign the standard licence of `ralf`, idle for 52 days.",
            "Buy one more standard licence (3 in all).",
        ]
    );

    // With auto-free off nothing changes by itself; turning it on helps only once someone is idle enough.
    settings.auto_free = false;
    let mut org = load(settings, users, vec![]);
    assert_eq!(org.judge(&e).valid_until, None);
    assert!(!summaries(&explain(&mut org, &e)).iter().any(|s| s.contains("auto-free")));
    let late = event(at("2027-01-05T00:00:00Z"), sync("anna"));
    assert!(summaries(&explain(&mut org, &late)).contains(&"Turn auto-free on, so that a licence idle long enough is taken."));
}

#[test]
fn a_full_house_of_seats_names_the_accounts_to_deactivate() {
    let settings = Settings { max_active_users: Some(3), ..Settings::default() };
    let users = vec![
        User::new("kasia"),
        User::new("beata"),
        User::new("jan"),
        User { account: AccountState::Inactive, ..User::new("marek") },
        User { account: AccountState::Inactive, has_password: false, ..User::new("ola") },
    ];
    let sessions = vec![Session { user: "kasia".into(), login_at: at("2026-11-22T09:00:00Z"), last_activity: at("2026-11-22T09:55:00Z"), tab_open: true }];
    let mut org = load(settings, users, sessions);
    let now = at("2026-11-22T10:00:00Z");
    let activate = event(now, EventKind::Activate("marek".into()));
    assert_eq!(org.judge(&activate).code, Code::SeatLimitReached);
    assert_eq!(
        summaries(&explain(&mut org, &activate)),
        [
            "Deactivate `beata`'s account, freeing its seat.",
            "Deactivate `jan`'s account, freeing its seat.",
            "Deactivate `kasia`'s account, freeing its seat.",
            "Buy one more seat (4 active accounts in all).",
        ],
        "accounts nobody is logged in to first"
    );
    // Marek can't log in: his account is inactive and the seats are full, so the remedy takes two steps.
    let login = event(now, EventKind::Login("marek".into()));
    assert_eq!(org.judge(&login).code, Code::AccountInactive);
    let remedies = explain(&mut org, &login);
    assert_eq!(remedies[0].summary, "Deactivate `beata`'s account, freeing its seat, then activate `marek`'s account.");
    assert_eq!(remedies[0].decision.rule, "S3");
    // Ola also has no password: the remedy leaves it to the host to choose one.
    let login = event(now, EventKind::Login("ola".into()));
    let remedies = explain(&mut org, &login);
    assert!(remedies.iter().all(|r| r.events.iter().any(|e| matches!(&e.kind, EventKind::SetPassword(p) if p.password.is_empty()))));
    assert_eq!(
        remedies[0].summary,
        "Deactivate `beata`'s account, freeing its seat, then set a password for `ola`, then activate `ola`'s account."
    );
}

#[test]
fn an_open_session_holds_until_it_goes_idle() {
    let users = vec![User::new("kasia")];
    let sessions = vec![Session { user: "kasia".into(), login_at: at("2026-11-22T09:00:00Z"), last_activity: at("2026-11-22T09:11:00Z"), tab_open: true }];
    let mut org = load(Settings::default(), users, sessions);
    let idle = at("2026-11-22T09:41:00Z");
    for kind in [EventKind::Login("kasia".into()), EventKind::CloseSession("kasia".into())] {
        let e = event(at("2026-11-22T09:20:00Z"), kind);
        let d = org.judge(&e);
        assert_eq!(d.valid_until, Some(idle));
        assert!(!d.allow);
        assert!(!org.judge(&event(idle - 1, e.kind.clone())).allow);
        assert!(org.judge(&event(idle, e.kind.clone())).allow);
        let remedies = explain(&mut org, &e);
        assert_eq!(remedies[0].summary, "Wait until 2026-11-22T09:41:00Z, when the open session has gone idle.");
        assert_eq!((remedies[0].wait_until, remedies[0].events.len()), (Some(idle), 0));
    }
    // The heartbeat holds until the session goes idle too: then it ends the session instead.
    let beat = org.judge(&event(at("2026-11-22T09:20:00Z"), EventKind::Activity(ActivityEvent { user: "kasia".into(), tab_open: true })));
    assert_eq!((beat.allow, beat.valid_until), (true, Some(idle)));
}

#[test]
fn calls_outside_the_plan_or_the_filter() {
    let settings = Settings { plan: "basic".into(), ..Settings::default() };
    let ana = User {
        sip: Some("101".into()),
        features: Features {
            feature_set: FeatureSet::Both,
            recording: false,
            crm_overlay: false,
            country_filter: CountryFilter { enabled: true, allowed: vec!["49".into()] },
        },
        ..User::new("ana")
    };
    let mut org = load(settings, vec![ana], vec![]);
    let call = |to: &str| event(at("2026-11-23T09:00:00Z"), EventKind::Call(CallEvent { user: "ana".into(), to: to.into(), direction: Direction::Outbound }));
    let e = call("+44 20 7946 0000");
    assert_eq!(org.judge(&e).code, Code::FeatureNotInPlan);
    // On `reach` her country filter is in force too, so a plan change alone isn't enough for +44.
    assert_eq!(
        summaries(&explain(&mut org, &e)),
        [
            "Give `ana` the `calls` feature set.",
            "Change the plan to `reach`, the first that offers the `both` feature set with the country filter, then allow +44 for `ana`.",
            "Change the plan to `reach`, the first that offers the `both` feature set with the country filter, then turn `ana`'s country filter off.",
        ]
    );
    // On `reach` the country filter is in force: +44 isn't allowed.
    org.step(&event(at("2026-11-23T08:00:00Z"), EventKind::SetPlan("reach".into())));
    assert_eq!(org.judge(&e).code, Code::CountryNotAllowed);
    assert_eq!(summaries(&explain(&mut org, &e)), ["Allow +44 for `ana`.", "Turn `ana`'s country filter off."]);
    // SMS switched off by the administrator: switched on, keeping calls.
    let features = Features { feature_set: FeatureSet::Calls, ..org.snapshot().users[0].features.clone() };
    org.step(&event(at("2026-11-23T08:00:00Z"), EventKind::SaveFeatures(SaveFeaturesEvent { user: "ana".into(), features })));
    let sms = event(at("2026-11-23T09:00:00Z"), EventKind::Sms(SmsEvent { user: "ana".into(), to: "+49 30 123456".into(), direction: Direction::Outbound }));
    assert_eq!(org.judge(&sms).code, Code::FeatureDisabled);
    assert_eq!(summaries(&explain(&mut org, &sms)), ["Give `ana` the `both` feature set."]);
}

#[test]
fn deleting_holds_until_the_billing_period_ends() {
    let users = vec![User { main_admin: true, ..User::new("boss") }, User::new("kasia")];
    let org = load(Settings::default(), users, vec![]);
    let delete = |when: &str| event(at(when), EventKind::DeleteUser(UserAction { actor: "boss".into(), user: "kasia".into() }));
    let d = org.judge(&delete("2026-11-22T10:00:00Z"));
    assert_eq!((d.billing_ends_at, d.valid_until), (Some(at("2026-12-01T00:00:00Z")), Some(at("2026-12-01T00:00:00Z"))));
    let next = org.judge(&delete("2026-12-01T00:00:00Z"));
    assert_eq!(next.billing_ends_at, Some(at("2027-01-01T00:00:00Z")));
}

#[test]
fn an_allowed_event_or_a_denial_only_another_event_changes_has_no_remedy() {
    let mut org = load(Settings::default(), vec![User { account: AccountState::Deleted, ..User::new("gone") }, User::new("ana")], vec![]);
    assert!(org.explain(&event(at("2026-11-22T10:00:00Z"), EventKind::Logout("ana".into()))).is_empty());
    assert!(org.explain(&event(at("2026-11-22T10:00:00Z"), sync("gone"))).is_empty());
    assert!(org.explain(&event(at("2026-11-22T10:00:00Z"), sync("nobody"))).is_empty());
}

// ------------------------------------------------------------ property test

const START: i64 = 1_790_000_000; // 2026-09-21

fn group(id: &str, kind: GroupKind, permissions: &[&str]) -> Group {
    Group { id: id.into(), kind, name: None, parent: None, permissions: permissions.iter().map(|p| p.to_string()).collect() }
}

/// A consistent random organisation using every part of the engine.
fn organisation(rng: &mut Rng) -> OrgState {
    let mut settings = Settings {
        trial: rng.chance(8),
        licenses: Licenses { standard: rng.below(4) as u32, inspections: rng.below(3) as u32, external: rng.chance(40) },
        inspections_enabled: rng.chance(50),
        auto_assign: rng.chance(60),
        auto_free: rng.chance(50),
        temporary_days: 1 + rng.below(20) as u32,
        inactive_days: 1 + rng.below(120) as u32,
        idle_logout_minutes: 1 + rng.below(60) as u32,
        plan: rng.pick(&["basic".to_string(), "reach".into(), "record".into()]),
        billing_day: 1 + rng.below(31) as u8,
        ..Settings::default()
    };
    let mut free = [settings.licenses.standard, settings.licenses.inspections];
    let mut active = 0;
    let mut sessions = Vec::new();
    let users: Vec<User> = (0..2 + rng.below(7))
        .map(|i| {
            let mut u = User::new(format!("u{i}"));
            u.external = rng.chance(10);
            u.standard = rng.pick(&[Selector::Unassigned, Selector::Unassigned, Selector::Disabled]);
            u.inspections = rng.pick(&[Selector::Unassigned, Selector::Unassigned, Selector::Disabled]);
            let license = rng.pick(&LicenseType::ALL);
            if !u.external && rng.chance(60) && free[license.index()] > 0 {
                free[license.index()] -= 1;
                *u.selector_mut(license) = Selector::Assigned;
                u.last_sync = rng.chance(70).then(|| START - rng.below(200) as i64 * DAY - rng.below(DAY as u64) as i64);
                u.assigned_at = rng.chance(60).then(|| START - rng.below(300) as i64 * DAY);
            }
            if rng.chance(30) {
                u.temporary_since = Some(START - rng.below(30) as i64 * DAY + rng.below(DAY as u64) as i64);
            }
            u.main_admin = i == 0;
            u.permission_group = Some(rng.pick(&["agents".to_string(), "admins".into()]));
            u.groups = vec!["position".into()];
            u.account = rng.pick(&[AccountState::Active, AccountState::Active, AccountState::Inactive, AccountState::Blocked]);
            active += u32::from(u.account == AccountState::Active);
            u.has_password = rng.chance(75);
            u.sip = rng.chance(85).then(|| format!("{}", 100 + i));
            u.features = Features {
                feature_set: rng.pick(&[FeatureSet::Calls, FeatureSet::Sms, FeatureSet::Both]),
                recording: rng.chance(40),
                crm_overlay: rng.chance(50),
                country_filter: CountryFilter { enabled: rng.chance(50), allowed: vec!["49".into()] },
            };
            if u.account != AccountState::Blocked && rng.chance(40) {
                let last = START - rng.below(90) as i64 * MINUTE;
                sessions.push(Session { user: u.id.clone(), login_at: last - 600, last_activity: last, tab_open: rng.chance(60) });
            }
            u
        })
        .collect();
    settings.max_active_users = rng.chance(70).then(|| active + rng.below(2) as u32);
    let groups = vec![group("agents", GroupKind::Permission, &[]), group("admins", GroupKind::Permission, &["manage_users"])];
    OrgState { settings, users, groups, sessions }
}

/// Any event with a time rule or a remedy, about the organisation's users.
fn any_event(rng: &mut Rng, users: usize, at: i64) -> Event {
    let user = format!("u{}", rng.below(users as u64));
    let actor = format!("u{}", rng.below(users as u64));
    let license = rng.pick(&LicenseType::ALL);
    let number = rng.pick(&["+48 22 113 14 15".to_string(), "+49 30 123456".into(), "+44 20 7946 0000".into(), "+1 242 555 0100".into()]);
    let direction = if rng.chance(80) { Direction::Outbound } else { Direction::Inbound };
    let kind = match rng.below(24) {
        0..=5 => sync(&user),
        6 => EventKind::Assign(LicenseEvent { user, license }),
        7 => EventKind::Unassign(LicenseEvent { user, license }),
        8 => EventKind::Disable(LicenseEvent { user, license }),
        9 => EventKind::RemoveMobileUser(user),
        10 => EventKind::Activate(user),
        11 => EventKind::Deactivate(user),
        12 | 13 => EventKind::Login(user),
        14 => EventKind::Logout(user),
        15 => EventKind::Activity(ActivityEvent { user, tab_open: rng.chance(70) }),
        16 => EventKind::CloseSession(user),
        17 => EventKind::SetPassword(PasswordEvent { user, password: "Secret1!".into(), confirm: "Secret1!".into() }),
        18 => match rng.below(3) {
            0 => EventKind::BlockUser(UserAction { actor, user }),
            1 => EventKind::UnblockUser(UserAction { actor, user }),
            _ => EventKind::DeleteUser(UserAction { actor, user }),
        },
        19 => EventKind::Call(CallEvent { user, to: number, direction }),
        20 => EventKind::Sms(SmsEvent { user, to: number, direction }),
        21 => match rng.below(3) {
            0 => EventKind::SetPlan(rng.pick(&["basic".to_string(), "reach".into(), "record".into()])),
            1 => {
                let features = Features {
                    feature_set: rng.pick(&[FeatureSet::Calls, FeatureSet::Sms, FeatureSet::Both]),
                    recording: rng.chance(50),
                    crm_overlay: false,
                    country_filter: CountryFilter { enabled: rng.chance(50), allowed: vec![] },
                };
                EventKind::SaveFeatures(SaveFeaturesEvent { user, features })
            }
            _ => EventKind::DeleteGroup(GroupAction { actor, group: "agents".into() }),
        },
        22 => EventKind::EditUser(EditUserEvent {
            actor,
            user,
            name: Some("Renamed".into()),
            email: None,
            sip: None,
            business_number: None,
            call_presentation: None,
            sms_presentation: None,
            permission_group: None,
            groups: None,
        }),
        _ => {
            let mut c = no_change();
            match rng.below(5) {
                0 => c.auto_assign = Some(rng.chance(50)),
                1 => c.auto_free = Some(rng.chance(50)),
                2 => c.trial = Some(rng.chance(30)),
                3 => c.standard_licenses = Some(rng.below(4) as u32),
                _ => c.idle_logout_minutes = Some(1 + rng.below(60) as u32),
            }
            EventKind::SetSettings(c)
        }
    };
    Event { at, kind }
}

/// `valid_until` is exact: the same decision (`same_as`) at every instant
/// tried before it (the one just before, and one at random), a different
/// one at it; with none, the same decision at instants long after, up to
/// the last the engine takes.
fn check_valid_until(org: &Org, e: &Event, rng: &mut Rng, context: &str) {
    let d = org.judge(e);
    let at_ = |t: i64| Event { at: t, kind: e.kind.clone() };
    match d.valid_until {
        Some(v) => {
            assert!(v > e.at, "{context}: valid_until {v} is not after the event ({})", e.at);
            for t in [v - 1, e.at + rng.below((v - e.at) as u64) as i64] {
                assert!(d.same_as(e.at, &org.judge(&at_(t)), t), "{context}: the decision changed at {t}, before valid_until {v}");
            }
            assert!(!d.same_as(e.at, &org.judge(&at_(v)), v), "{context}: the decision is the same at valid_until {v}");
        }
        None => {
            for t in [e.at + 1, e.at + rng.below(800 * DAY as u64) as i64, LAST_INSTANT - 1] {
                let later = org.judge(&at_(t));
                assert!(d.same_as(e.at, &later, t), "{context}: no valid_until, but the decision changed at {t}: {later:?}");
            }
        }
    }
}

/// What the scenarios met: per denial code, (denials, denials with a
/// remedy, remedies checked); per rule, decisions with a `valid_until`.
#[derive(Default)]
struct Tally {
    remedied: BTreeMap<&'static str, (u32, u32, u32)>,
    timed: BTreeMap<&'static str, u32>,
    events: u32,
    remedies: u32,
}

/// One generated organisation and `steps` events stepped through it; before
/// each step, its decision's `valid_until` is checked exact and, for a
/// denial, every remedy `explain` offers is applied to a copy and checked
/// to let the event through. Panics on the first broken promise.
fn every_remedy_works(rng: &mut Rng, steps: u32, tally: &mut Tally) {
    let state = organisation(rng);
    let users = state.users.len();
    let mut org = Org::load(state.clone()).unwrap_or_else(|p| panic!("the generated state doesn't load: {p:?}"));
    let mut at = START;
    for step in 0..steps {
        at += rng.pick(&[0, 1, 59, 120, 300, 600, 900, 3_600, DAY, 7 * DAY, 30 * DAY]) + rng.below(120) as i64;
        let e = any_event(rng, users, at);
        let context = format!("step {step} at {at} ({:?})", e.kind);
        tally.events += 1;
        check_valid_until(&org, &e, rng, &context);
        let d = org.judge(&e);
        if d.valid_until.is_some() {
            *tally.timed.entry(d.rule).or_default() += 1;
        }
        if !d.allow {
            let before = org.snapshot();
            let offered = org.explain(&e);
            assert_eq!(org.snapshot(), before, "{context}: explain changed the state");
            let sizes: Vec<usize> = offered.iter().map(|r| r.events.len()).collect();
            assert!(sizes.is_sorted(), "{context}: not smallest first: {sizes:?}");
            let name = turnstile_policy::model::Named::name(d.code);
            let seen = tally.remedied.entry(name).or_default();
            seen.0 += 1;
            seen.1 += u32::from(!offered.is_empty());
            seen.2 += offered.len() as u32;
            tally.remedies += offered.len() as u32;
            for r in &offered {
                assert!(!r.summary.is_empty() && r.summary.ends_with('.'), "{context}: {r:?}");
                check_remedy(&org, &e, r, &context);
            }
        } else {
            assert!(org.explain(&e).is_empty(), "{context}: remedies for an allowed event");
        }
        org.step(&e);
    }
}

fn draws() -> impl Strategy<Value = Vec<u64>> {
    proptest::collection::vec(any::<u64>(), 0..1_500)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// For every decision `valid_until` is exact, and every remedy offered
    /// for every denial works; a failure shrinks to a small organisation.
    #[test]
    fn every_remedy_works_and_every_valid_until_is_exact(values in draws()) {
        let mut rng = Draws::recorded(values);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            every_remedy_works(&mut rng, 30, &mut Tally::default())
        }));
        if let Err(panic) = result {
            let why = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            prop_assert!(false, "{}", why.unwrap_or_default());
        }
    }
}

/// The same promises over 300 seeded scenarios, counting what they met:
/// every kind of denial with remedies got some, and every rule that sets
/// `valid_until` set it, or the generator isn't exercising them.
#[test]
fn every_kind_of_denial_is_remedied_and_every_time_rule_is_met() {
    let mut rng = Draws::Seeded(0x1e55_0f_16);
    let mut tally = Tally::default();
    for scenario in 0..300 {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| every_remedy_works(&mut rng, 60, &mut tally)));
        if let Err(panic) = result {
            std::panic::resume_unwind(Box::new(format!("scenario {scenario}: {:?}", panic.downcast_ref::<String>())));
        }
    }
    let Tally { remedied, timed, events, remedies } = tally;
    eprintln!("{events} events, {remedies} remedies checked; by code (denials, remedied, remedies): {remedied:?}; valid_until by rule: {timed:?}");
    for code in [
        "LICENSE_NOT_FOUND", "LICENSE_EXPIRED", "NO_LICENSE_AVAILABLE", "NOT_AVAILABLE_IN_TRIAL", "SEAT_LIMIT_REACHED",
        "PASSWORD_REQUIRED", "ACCOUNT_INACTIVE", "ACCOUNT_BLOCKED", "ALREADY_LOGGED_IN", "SESSION_IN_USE", "NOT_PERMITTED",
        "FEATURE_NOT_IN_PLAN", "FEATURE_DISABLED", "COUNTRY_NOT_ALLOWED",
    ] {
        let (_, with, _) = remedied.get(code).copied().unwrap_or_default();
        assert!(with >= 5, "{code}: only {with} denials got a remedy");
    }
    for rule in ["L8", "L9", "S3", "S4", "S5", "A6"] {
        assert!(timed.get(rule).copied().unwrap_or_default() >= 5, "{rule}: too few decisions with a valid_until: {timed:?}");
    }
}
