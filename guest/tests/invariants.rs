//! The state machine's promises, checked natively over many generated
//! scenarios: after every step no licence type is over-assigned, no user
//! holds two types, a deleted account holds no licence or session, the
//! groups still load (no cycle); a denial changes nothing; `apply` is all
//! or nothing. Every event kind of the WIT is generated.
//!
//! The generators below read like the rules: "one user in ten is external".
//! They take their choices from [`Draws`], a list of numbers that proptest
//! generates and, when a property fails, shrinks (fewer numbers, smaller
//! ones): since an exhausted or zero draw is always the plainest choice (no,
//! the first option, the smallest count), a failure shrinks to a small
//! organisation and a short list of events, printed in the failure message.
//! `PROPTEST_CASES=N` runs more cases than the defaults below.

mod common;

use common::draws::{Draws, Rng};
use proptest::prelude::*;
use turnstile_policy::Org;
use turnstile_policy::model::{
    no_change, AccountState, ActivityEvent, AppToggleEvent, Assignment, CallEvent, Channel, Code, CountryFilter,
    CreateGroupEvent, CreateUserEvent, Direction, EditGroupEvent, EditUserEvent, Effect, Event, EventKind,
    FeatureSet, Features, Group, GroupAction, GroupKind, LicenseChange, LicenseEvent, LicenseType, Licenses,
    OrgState, PasswordEvent, SaveFeaturesEvent, Selector, Settings, SettingsChange, SmsEvent, SyncEvent, User,
    UserAction, UserInstant,
};

/// The draws of one generated case: enough for an organisation and its events.
fn draws() -> impl Strategy<Value = Vec<u64>> {
    proptest::collection::vec(any::<u64>(), 0..3_000)
}

const START: i64 = 1_790_000_000; // 2026-09-21
const DAY: i64 = 86_400;

fn selector(rng: &mut Rng) -> Selector {
    [Selector::Unassigned, Selector::Unassigned, Selector::Disabled][rng.below(3) as usize]
}

/// A consistent random organisation: licences handed out within what was bought.
fn organisation(rng: &mut Rng) -> OrgState {
    let settings = Settings {
        trial: rng.chance(5),
        licenses: Licenses {
            standard: rng.below(5) as u32,
            inspections: rng.below(4) as u32,
            external: rng.chance(50),
        },
        inspections_enabled: rng.chance(50),
        auto_assign: rng.chance(70),
        auto_free: rng.chance(60),
        temporary_days: 1 + rng.below(20) as u32,
        inactive_days: 1 + rng.below(120) as u32,
        ..Settings::default()
    };
    let mut free = [settings.licenses.standard, settings.licenses.inspections];
    let users = (0..2 + rng.below(10))
        .map(|i| {
            let mut u = User::new(format!("u{i:02}"));
            u.external = rng.chance(10);
            u.standard = selector(rng);
            u.inspections = selector(rng);
            let license = if rng.chance(50) { LicenseType::Standard } else { LicenseType::Inspections };
            if rng.chance(50) && free[license.index()] > 0 {
                free[license.index()] -= 1;
                *u.selector_mut(license) = Selector::Assigned;
                if rng.chance(70) {
                    u.last_sync = Some(START - rng.below(200) as i64 * DAY);
                }
                if rng.chance(50) {
                    u.assigned_at = Some(START - rng.below(300) as i64 * DAY);
                }
            }
            if rng.chance(20) {
                u.temporary_since = Some(START - rng.below(30) as i64 * DAY);
            }
            u
        })
        .collect();
    OrgState { settings, users, groups: Vec::new(), sessions: Vec::new() }
}

fn event(rng: &mut Rng, users: usize, at: i64) -> Event {
    let user = format!("u{:02}", rng.below(users as u64));
    let license = if rng.chance(50) { LicenseType::Standard } else { LicenseType::Inspections };
    let kind = match rng.below(11) {
        0 => EventKind::Assign(LicenseEvent { user, license }),
        1 => EventKind::Unassign(LicenseEvent { user, license }),
        2 => EventKind::Disable(LicenseEvent { user, license }),
        3 => EventKind::RemoveMobileUser(user),
        4 => EventKind::SetSettings(settings_change(rng)),
        _ => EventKind::Sync(SyncEvent { user, channel: Channel::Mobile }),
    };
    Event { at, kind }
}

/// A partial settings change (O1), sometimes out of range or below what is held.
fn settings_change(rng: &mut Rng) -> SettingsChange {
    let mut c = no_change();
    match rng.below(8) {
        0 => c.standard_licenses = Some(rng.below(5) as u32),
        1 => c.inspections_licenses = Some(rng.below(4) as u32),
        2 => c.auto_assign = Some(rng.chance(50)),
        3 => c.auto_free = Some(rng.chance(50)),
        4 => c.trial = Some(rng.chance(20)),
        5 => c.temporary_days = Some(rng.below(30) as u32),
        6 => c.max_active_users = Some(rng.below(6) as u32),
        _ => {
            c.inspections_enabled = Some(rng.chance(50));
            c.idle_logout_minutes = Some(rng.below(60) as u32);
        }
    }
    c
}

fn pick<T: Clone>(rng: &mut Rng, items: &[T]) -> T {
    items[rng.below(items.len() as u64) as usize].clone()
}

fn groups() -> Vec<Group> {
    let group = |id: &str, kind, parent: Option<&str>, permissions: &[&str]| Group {
        id: id.into(),
        kind,
        name: None,
        parent: parent.map(Into::into),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
    };
    vec![
        group("agents", GroupKind::Permission, None, &[]),
        group("admins", GroupKind::Permission, None, &["manage_users"]),
        group("position", GroupKind::User, None, &[]),
        group("position/consultant", GroupKind::User, Some("position"), &[]),
        group("branches", GroupKind::User, None, &[]),
        group("branches/krakow", GroupKind::User, Some("branches"), &[]),
    ]
}

/// An organisation using every part of the engine: licences, seats,
/// accounts, groups and call features.
fn whole_organisation(rng: &mut Rng) -> OrgState {
    let mut state = organisation(rng);
    state.groups = groups();
    state.settings.plan = pick(rng, &["basic".to_string(), "reach".into(), "record".into()]);
    let mut active = 0;
    for (i, u) in state.users.iter_mut().enumerate() {
        u.name = format!("User {i}");
        u.email = format!("user{i}@example.com");
        u.sip = rng.chance(85).then(|| format!("{}", 100 + i));
        u.main_admin = i == 0;
        u.permission_group = Some(pick(rng, &["agents".to_string(), "admins".into()]));
        u.groups = vec![pick(rng, &["position".to_string(), "position/consultant".into()])];
        if rng.chance(30) {
            u.groups.push("branches/krakow".into());
        }
        u.account = pick(rng, &[AccountState::Active, AccountState::Active, AccountState::Inactive, AccountState::Blocked]);
        active += u32::from(u.account == AccountState::Active);
        u.has_password = rng.chance(85);
        u.features = features(rng);
        u.app.recording = rng.chance(70);
    }
    state.settings.max_active_users = Some(active + rng.below(3) as u32);
    state
}

fn features(rng: &mut Rng) -> Features {
    Features {
        feature_set: pick(rng, &[FeatureSet::Calls, FeatureSet::Sms, FeatureSet::Both]),
        recording: rng.chance(50),
        crm_overlay: rng.chance(50),
        country_filter: CountryFilter {
            enabled: rng.chance(40),
            allowed: if rng.chance(70) { vec!["48".into()] } else { vec!["48".into(), "1".into()] },
        },
    }
}

/// Any event kind, about the organisation's users (and sometimes a new one).
fn any_event(rng: &mut Rng, users: usize, created: &mut usize, at: i64) -> Event {
    let user = format!("u{:02}", rng.below(users as u64));
    let actor = format!("u{:02}", rng.below(users.min(3) as u64));
    let number = pick(rng, &["+48 221 13 14 15".to_string(), "0049 30 123456".into(), "+1 (242) 555-0100".into(), "12-34".into(), "+999 1".into()]);
    let action = UserAction { actor: actor.clone(), user: user.clone() };
    let kind = match rng.below(23) {
        0..=3 => return event(rng, users, at),
        4 => EventKind::Activate(user),
        5 => EventKind::Deactivate(user),
        6 => EventKind::Login(user),
        7 => EventKind::Logout(user),
        8 => EventKind::Activity(ActivityEvent { user, tab_open: rng.chance(50) }),
        9 => EventKind::CloseSession(user),
        10 => {
            let password = pick(rng, &["Secret1!".to_string(), "short".into(), "NoDigits!!".into()]);
            let confirm = if rng.chance(80) { password.clone() } else { "other".into() };
            EventKind::SetPassword(PasswordEvent { user, password, confirm })
        }
        11 => {
            *created += 1;
            let mut new = User::new(format!("new{created:03}"));
            new.name = "New User".into();
            new.email = pick(rng, &[format!("new{created}@example.com"), "user1@example.com".into(), "bad".into()]);
            new.sip = rng.chance(80).then(|| format!("9{created:02}"));
            new.permission_group = Some("agents".into());
            new.groups = vec!["position".into()];
            new.account = pick(rng, &[AccountState::Active, AccountState::Inactive]);
            new.business_number = rng.chance(30).then(|| number.clone());
            new.sms_presentation = rng.chance(30).then(|| pick(rng, &["ACME".to_string(), "ACME Sales 1".into()]));
            let password = rng.chance(40).then(|| pick(rng, &["Secret1!".to_string(), "weak".into()]));
            let confirm = password.clone();
            EventKind::CreateUser(CreateUserEvent { actor, user: new, password, confirm })
        }
        12 => EventKind::BlockUser(action),
        13 => EventKind::UnblockUser(action),
        14 => EventKind::DeleteUser(action),
        15 => EventKind::DeleteGroup(GroupAction {
            actor,
            group: pick(rng, &["branches/krakow".to_string(), "branches".into(), "position".into(), "agents".into()]),
        }),
        16 => match rng.below(3) {
            0 => EventKind::SaveFeatures(SaveFeaturesEvent { user, features: features(rng) }),
            1 => EventKind::SetAppToggle(AppToggleEvent { user, recording: Some(rng.chance(50)), crm_overlay: None }),
            _ => EventKind::SetPlan(pick(rng, &["basic".to_string(), "reach".into(), "record".into(), "gold".into()])),
        },
        17 => EventKind::Call(CallEvent {
            user,
            to: number,
            direction: if rng.chance(70) { Direction::Outbound } else { Direction::Inbound },
        }),
        18 => EventKind::Sms(SmsEvent {
            user,
            to: number,
            direction: if rng.chance(70) { Direction::Outbound } else { Direction::Inbound },
        }),
        19 => EventKind::EditUser(EditUserEvent {
            actor,
            user,
            name: rng.chance(20).then(|| pick(rng, &["Renamed".to_string(), " ".into()])),
            email: rng.chance(20).then(|| pick(rng, &["user1@example.com".to_string(), "fresh@example.com".into()])),
            sip: rng.chance(20).then(|| pick(rng, &["100".to_string(), "777".into()])),
            business_number: rng.chance(20).then(|| number.clone()),
            call_presentation: None,
            sms_presentation: rng.chance(20).then(|| pick(rng, &["ACME".to_string(), "TOO LONG SENDER".into(), "".into()])),
            permission_group: rng.chance(30).then(|| pick(rng, &["agents".to_string(), "admins".into(), "position".into()])),
            groups: rng.chance(50).then(|| {
                pick(rng, &[vec!["position".to_string()], vec!["position/consultant".into(), "branches/krakow".into()], vec![]])
            }),
        }),
        20 => {
            *created += 1;
            let kind = if rng.chance(50) { GroupKind::User } else { GroupKind::Permission };
            let group = Group {
                id: pick(rng, &[format!("g{created}"), "branches".into()]),
                kind,
                name: None,
                parent: rng.chance(50).then(|| pick(rng, &["branches".to_string(), "agents".into(), "position".into()])),
                permissions: if rng.chance(30) { vec!["manage_users".into()] } else { vec![] },
            };
            let members = if rng.chance(40) { vec![user] } else { vec![] };
            EventKind::CreateGroup(CreateGroupEvent { actor, group, members })
        }
        21 => EventKind::EditGroup(EditGroupEvent {
            actor,
            group: pick(rng, &["branches".to_string(), "branches/krakow".into(), "position".into(), "admins".into()]),
            name: rng.chance(30).then(|| "Renamed".to_string()),
            // Parents that would make cycles of one and of two groups, a top-level move, a permission parent.
            parent: rng.chance(70).then(|| {
                pick(rng, &["branches".to_string(), "branches/krakow".into(), "position".into(), "".into(), "agents".into()])
            }),
            permissions: rng.chance(30).then(|| vec!["manage_users".to_string()]),
        }),
        _ => EventKind::RemoveMobileUser(user),
    };
    Event { at, kind }
}

fn check_invariants(org: &Org, context: &str) {
    let state = org.snapshot();
    let mut held = [0u32; 2];
    for u in &state.users {
        assert!(
            !(u.standard == Selector::Assigned && u.inspections == Selector::Assigned),
            "{context}: {} holds two licence types",
            u.id
        );
        if let Some(l) = u.held_license() {
            held[l.index()] += 1;
        }
    }
    for l in LicenseType::ALL {
        assert!(
            held[l.index()] <= state.settings.licenses.purchased(l),
            "{context}: {} {:?} licences held, {} purchased",
            held[l.index()],
            l,
            state.settings.licenses.purchased(l)
        );
        assert_eq!(org.state().assigned(l), held[l.index()], "{context}: the assigned count index drifted");
    }
    let active = state.users.iter().filter(|u| u.account == AccountState::Active).count() as u32;
    let max = state.settings.max_active_users.unwrap_or(u32::MAX);
    assert!(active <= max, "{context}: {active} active accounts, too many seats");
    assert_eq!(org.state().active_accounts(), active, "{context}: the active account index drifted");
    for session in &state.sessions {
        let user = state.users.iter().find(|u| u.id == session.user);
        assert!(user.is_some(), "{context}: a session of nobody");
        assert!(user.is_some_and(|u| u.account != AccountState::Deleted), "{context}: a deleted user's session");
    }
    for u in state.users.iter().filter(|u| u.account == AccountState::Deleted) {
        assert_eq!(u.held_license(), None, "{context}: deleted user {} holds a licence", u.id);
    }
    // The whole state loads back (no group cycle, every range kept).
    if let Err(problems) = Org::load(state) {
        panic!("{context}: the state no longer loads: {problems:?}");
    }
}

/// One scenario: an organisation and 60 events stepped through it, every
/// promise checked after each step. `Err` says which broke, with the
/// organisation and the events so far.
fn invariants_hold_after_every_step(rng: &mut Rng) -> Result<(), String> {
    let state = organisation(rng);
    let users = state.users.len();
    let mut org = Org::load(state.clone()).map_err(|p| format!("the generated state doesn't load: {p:?}"))?;
    let mut events = Vec::new();
    let mut at = START;
    for _ in 0..60 {
        at += rng.below(40) as i64 * DAY / 4;
        let event = event(rng, users, at);
        events.push(event.clone());
        let context = || format!("after events {events:#?}\nfrom {state:#?}");
        let before = org.snapshot();
        let decision = org.step(&event);
        let broken = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            assert!(decision.detail.as_deref().is_none_or(|d| !d.starts_with("internal")), "{decision:?}");
            if !decision.allow {
                assert!(decision.effects.is_empty(), "a denial carries effects");
                assert_eq!(org.snapshot(), before, "a denial changed the state");
            }
            assert_eq!(decision.allow, decision.code == Code::Ok, "allow and code disagree");
            check_invariants(&org, "the last event");
        }));
        if let Err(panic) = broken {
            let why = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            return Err(format!("{}\n{}", why.unwrap_or_default(), context()));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_after_every_step_of_many_scenarios(values in draws()) {
        let result = invariants_hold_after_every_step(&mut Draws::recorded(values));
        prop_assert!(result.is_ok(), "{}", result.err().unwrap_or_default());
    }

    #[test]
    fn decide_is_pure_and_step_is_decide_then_apply(values in draws()) {
        let result = decide_then_apply(&mut Draws::recorded(values));
        prop_assert!(result.is_ok(), "{}", result.err().unwrap_or_default());
    }
}

#[test]
fn every_event_kind_keeps_the_state_machine_honest() {
    let mut rng = Draws::Seeded(0xacc0_u64 << 32 | 0x5ea7);
    // How often each kind was allowed and refused: every kind must be both
    // at least once, or the generator isn't exercising it.
    let mut seen: std::collections::BTreeMap<&'static str, (u32, u32)> = std::collections::BTreeMap::new();
    for scenario in 0..300 {
        let state = whole_organisation(&mut rng);
        let users = state.users.len();
        let mut org = Org::load(state).unwrap_or_else(|p| panic!("scenario {scenario}: {p:?}"));
        let (mut at, mut created) = (START, 0);
        for step in 0..80 {
            at += rng.below(30) as i64 * 60;
            let event = any_event(&mut rng, users, &mut created, at);
            let before = org.snapshot();
            let decision = org.step(&event);
            let counts = seen.entry(event.kind.name()).or_default();
            if decision.allow { counts.0 += 1 } else { counts.1 += 1 }
            let context = format!("scenario {scenario} step {step} ({:?})", event.kind);
            assert!(decision.detail.as_deref().is_none_or(|d| !d.starts_with("internal")), "{context}: {decision:?}");
            assert_eq!(decision.allow, decision.code == Code::Ok, "{context}: allow and code disagree");
            if !decision.allow {
                assert!(decision.effects.is_empty(), "{context}: a denial carries effects");
                assert_eq!(org.snapshot(), before, "{context}: a denial changed the state");
            }
            check_invariants(&org, &context);
            // A snapshot loads back to an organisation that decides the same.
            if step % 20 == 19 {
                let restored = Org::load(org.snapshot()).unwrap_or_else(|p| panic!("{context}: {p:?}"));
                let probe = any_event(&mut rng, users, &mut created, at + 60);
                assert_eq!(restored.decide(&probe), org.decide(&probe), "{context}: restored state decides differently");
            }
        }
    }
    for kind in [
        "remove_mobile_user", "edit_user", "create_group", "edit_group", "set_settings", "sms", "create_user", "assign",
    ] {
        let (allowed, refused) = seen.get(kind).copied().unwrap_or_default();
        assert!(allowed > 0 && refused > 0, "{kind}: {allowed} allowed, {refused} refused");
    }
}

/// `decide` changes nothing and is deterministic; `step` is `decide` then
/// `apply` of its effects, over 30 events.
fn decide_then_apply(rng: &mut Rng) -> Result<(), String> {
    let state = organisation(rng);
    let users = state.users.len();
    let mut stepped = Org::load(state.clone()).map_err(|p| format!("{p:?}"))?;
    let mut applied = Org::load(state.clone()).map_err(|p| format!("{p:?}"))?;
    let mut events = Vec::new();
    for _ in 0..30 {
        let at = START + rng.below(100) as i64 * DAY;
        let event = event(rng, users, at);
        events.push(event.clone());
        let fail = |why: &str| Err(format!("{why} after events {events:#?}\nfrom {state:#?}"));
        let before = applied.snapshot();
        let decided = applied.decide(&event);
        if applied.snapshot() != before {
            return fail("decide changed the state");
        }
        if applied.decide(&event) != decided {
            return fail("decide is not deterministic");
        }
        if let Err(problem) = applied.apply(&decided.effects) {
            return fail(&format!("a decision's own effects were refused: {problem:?}"));
        }
        if stepped.step(&event) != decided || stepped.snapshot() != applied.snapshot() {
            return fail("step is not decide then apply");
        }
    }
    Ok(())
}

fn two_users(standard: u32) -> Org {
    let mut settings = Settings::default();
    settings.licenses.standard = standard;
    let users = vec![User::new("a"), User::new("b")];
    Org::load(OrgState { settings, users, groups: Vec::new(), sessions: Vec::new() }).unwrap()
}

#[test]
fn apply_is_all_or_nothing() {
    let mut org = two_users(1);
    let before = org.snapshot();
    let assign = |user: &str| Effect::Assign(Assignment { user: user.into(), license: LicenseType::Standard, at: START });
    // The second assignment would over-assign: the first must be undone too.
    let problem = org
        .apply(&[Effect::Touch(UserInstant { user: "a".into(), at: START }), assign("a"), assign("b")])
        .unwrap_err();
    assert_eq!(problem.field, "effects[2]");
    assert!(problem.message.contains("1 over"), "{}", problem.message);
    assert_eq!(org.snapshot(), before);
    assert_eq!(org.state().assigned(LicenseType::Standard), 0, "indexes rolled back too");

    let problem = org.apply(&[assign("a"), Effect::Free(LicenseChange { user: "ghost".into(), license: LicenseType::Standard })]);
    assert_eq!(problem.unwrap_err().message, "unknown user `ghost`");
    assert_eq!(org.snapshot(), before);

    org.apply(&[assign("a")]).unwrap();
    assert_eq!(org.state().assigned(LicenseType::Standard), 1);
    let problem = org.apply(&[Effect::Assign(Assignment { user: "a".into(), license: LicenseType::Inspections, at: START })]);
    assert!(problem.unwrap_err().message.contains("already holds"), "one type per user");
}

#[test]
fn an_unknown_user_is_denied_by_e1() {
    let org = two_users(1);
    let d = org.decide(&Event { at: START, kind: EventKind::Sync(SyncEvent { user: "ghost".into(), channel: Channel::Web }) });
    assert_eq!((d.allow, d.code, d.rule.as_str()), (false, Code::UnknownUser, "E1"));
    assert!(d.message.contains("ghost"));
}

#[test]
fn load_reports_every_problem() {
    let mut settings = Settings::default();
    settings.licenses.standard = 1;
    settings.plan = "gold".into();
    let mut a = User::new("a");
    a.standard = Selector::Assigned;
    let mut b = User::new("b");
    b.standard = Selector::Assigned;
    let mut c = User::new("a");
    c.permission_group = Some("nowhere".into());
    let problems = Org::load(OrgState { settings, users: vec![a, b, c], groups: Vec::new(), sessions: Vec::new() })
        .unwrap_err();
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["settings.plan", "users[2].id", "users[2].permission_group", "users"]);
}

#[test]
fn apply_refuses_what_the_second_edition_rules_out() {
    use turnstile_policy::model::StateChange;
    // A6: an account is not deleted while it still holds a licence.
    let mut org = two_users(1);
    org.apply(&[Effect::Assign(Assignment { user: "a".into(), license: LicenseType::Standard, at: START })]).unwrap();
    let before = org.snapshot();
    let delete = Effect::SetState(StateChange { user: "a".into(), state: AccountState::Deleted });
    let problem = org.apply(&[delete.clone()]).unwrap_err();
    assert!(problem.message.contains("still holds a licence"), "{}", problem.message);
    assert_eq!(org.snapshot(), before);
    // Freed first, the deletion applies; a deleted account can't be assigned one again.
    org.apply(&[Effect::Unassign(LicenseChange { user: "a".into(), license: LicenseType::Standard }), delete]).unwrap();
    let problem = org.apply(&[Effect::Assign(Assignment { user: "a".into(), license: LicenseType::Standard, at: START })]);
    assert!(problem.unwrap_err().message.contains("deleted"));

    // A8: groups whose parents would form a cycle are refused whole, the added group with them.
    let group = |id: &str, parent: Option<&str>| Group {
        id: id.into(),
        kind: GroupKind::User,
        name: None,
        parent: parent.map(Into::into),
        permissions: vec![],
    };
    let before = org.snapshot();
    let problem = org
        .apply(&[Effect::AddGroup(group("x", None)), Effect::AddGroup(group("y", Some("x"))), Effect::UpdateGroup(group("x", Some("y")))])
        .unwrap_err();
    assert_eq!(problem.field, "effects[2]");
    assert!(problem.message.contains("cycle"), "{}", problem.message);
    assert_eq!(org.snapshot(), before, "the two added groups are gone too");

    // O1: settings that leave fewer licences than are held are refused.
    org.apply(&[Effect::Assign(Assignment { user: "b".into(), license: LicenseType::Standard, at: START })]).unwrap();
    let change = SettingsChange { standard_licenses: Some(0), ..no_change() };
    assert!(org.apply(&[Effect::SetSettings(change)]).unwrap_err().message.contains("1 over"));
}
