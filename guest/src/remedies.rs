//! What would let a denial through: the remedies `explain` offers.
//!
//! A remedy is what an administrator (or the user) can do about a denial:
//! a sentence, the events that do it, and the decision the denied event
//! then gets. Each denial suggests a few *fixes* ([`fixes`]), built from a
//! handful of shapes:
//!
//! - an action on the user's own record (assign a licence, activate,
//!   unblock, set a password, give a feature, allow a country);
//! - freeing what someone else holds (the longest-idle licence holder, an
//!   active account's seat, the user's own open session);
//! - a settings change or a purchase (one more licence or seat, auto-free,
//!   the External licence, the end of the trial, a plan that offers it);
//! - waiting until the instant the denial's `valid_until` names.
//!
//! Nothing is offered untried. [`explain`] performs a fix's events on the
//! state one by one, each decided by the rules and applied only if allowed,
//! then decides the denied event again, and rolls everything back
//! ([`State::apply_trial`]): the state is left exactly as it was. A fix
//! whose own event is denied, or after which the event is denied for
//! another reason, is tried again with that denial's fixes added (two
//! levels at most), so "activate the account" becomes "deactivate `kasia`,
//! then activate the account" when every seat is taken. Remedies come
//! smallest first: fewest events, then in the order [`fixes`] lists them.

use crate::calendar::format_rfc3339;
use crate::decision::Decision;
use crate::engine::decide;
use crate::model::{
    self, no_change, AccountState, ActivityEvent, Code, DAY, EditUserEvent, Event, EventKind, FeatureSet, Features, GroupKind,
    Instant, LicenseEvent, LicenseType, Named, PasswordEvent, SaveFeaturesEvent, SettingsChange, UserAction,
};
use crate::state::{Journal, State};
use crate::users::UserRef;
use crate::{accounts, features, licensing};

/// What would let a denied event through: the contract's `remedy`
/// (`wit/policy.wit`): a `summary`, the `events` that perform it at the
/// denied event's instant (a `set_password` with an empty `password` and
/// `confirm`, for the host to fill in: the engine never makes one up), a
/// `wait_until` when it is a wait, and the `decision` the event then gets.
pub use crate::model::Remedy;

/// A candidate: what it does, in words, and its events (or a wait).
#[derive(Clone)]
struct Fix {
    says: String,
    events: Vec<EventKind>,
    wait: Option<Instant>,
}

fn fix(says: String, events: Vec<EventKind>) -> Fix {
    Fix { says, events, wait: None }
}

/// How many fixes may be nested into one remedy, and how many trials one
/// `explain` may run: a bound on its cost whatever the state.
const DEPTH: u32 = 2;
const TRIALS: u32 = 48;

/// How many of several equal candidates (active accounts) are offered.
const CHOICES: usize = 3;

/// The password a remedy's `set_password` is tried with: any that A1 accepts.
const STAND_IN_PASSWORD: &str = "Stand-in1!";

/// Rule of issue 16: the remedies for `event` in `state`, smallest first,
/// each verified; none when `event` is allowed. `state` is left as it was.
pub fn explain(state: &mut State, event: &Event) -> Vec<Remedy> {
    let denial = decide(state, event);
    if denial.allow {
        return Vec::new();
    }
    let mut search = Search { event, found: Vec::new(), trials: TRIALS };
    for f in fixes(state, event, &denial) {
        search.attempt(state, vec![f], denial.code, DEPTH);
    }
    // Smallest first, in the order found among the same size: a pass per
    // size (a handful; at most TRIALS remedies) rather than a stable sort,
    // whose code for remedies cost the component 3.4 KB.
    let mut found = search.found;
    let mut by_size: Vec<Remedy> = Vec::with_capacity(found.len());
    let mut size = 0;
    while !found.is_empty() {
        let mut i = 0;
        while i < found.len() {
            if found[i].events.len() == size {
                by_size.push(found.remove(i));
            } else {
                i += 1;
            }
        }
        size += 1;
    }
    let mut kept: Vec<Remedy> = Vec::with_capacity(by_size.len());
    for remedy in by_size {
        // Offered once, and not again with more steps than needed: a remedy
        // that performs a smaller one's events (and more) is left out.
        let redundant = |k: &Remedy| {
            (k.events == remedy.events && k.wait_until == remedy.wait_until)
                || (k.wait_until.is_none() && !k.events.is_empty() && contains_in_order(&remedy.events, &k.events))
        };
        if !kept.iter().any(redundant) {
            kept.push(remedy);
        }
    }
    kept
}

/// Whether `all` has every one of `part`'s events, in the same order.
fn contains_in_order(all: &[Event], part: &[Event]) -> bool {
    let mut rest = all.iter();
    part.iter().all(|p| rest.any(|e| e == p))
}

struct Search<'a> {
    event: &'a Event,
    found: Vec<Remedy>,
    trials: u32,
}

impl Search<'_> {
    /// Performs the events of `plan` then decides the denied event (at the
    /// plan's wait, if any): a remedy if it is allowed. A denial on the way,
    /// of one of the plan's events or of the event for another reason than
    /// `fixing`, is tried again with its own fixes while `depth` allows.
    fn attempt(&mut self, state: &mut State, plan: Vec<Fix>, fixing: Code, depth: u32) {
        if self.trials == 0 {
            return;
        }
        self.trials -= 1;
        let at = self.event.at;
        let mut journal = Journal::default();
        for (i, f) in plan.iter().enumerate() {
            for kind in &f.events {
                let step = Event { at, kind: kind.clone() };
                let d = decide(state, &tried(&step));
                if d.allow && state.apply_trial(&d.effects, &mut journal).is_ok() {
                    continue;
                }
                // One of the remedy's own events is denied: fix that first.
                let more = if depth > 0 && !d.allow { fixes(state, &step, &d) } else { Vec::new() };
                state.roll_back(journal);
                for extra in more.into_iter().filter(|m| m.wait.is_none()) {
                    let mut longer: Vec<Fix> = plan[..i].to_vec();
                    longer.push(extra);
                    longer.extend_from_slice(&plan[i..]);
                    self.attempt(state, longer, d.code, depth - 1);
                }
                return;
            }
        }
        let wait = plan.iter().find_map(|f| f.wait);
        let again = Event { at: wait.unwrap_or(at), kind: self.event.kind.clone() };
        let d = decide(state, &again);
        if d.allow {
            let says: Vec<&str> = plan.iter().map(|f| f.says.as_str()).collect();
            self.found.push(Remedy {
                summary: sentence(&says),
                events: plan.iter().flat_map(|f| f.events.iter().map(|kind| Event { at, kind: kind.clone() })).collect(),
                wait_until: wait,
                decision: d.to_record(state),
            });
            state.roll_back(journal);
            return;
        }
        // Still denied, for another reason: fix that too.
        let more = if depth > 0 && wait.is_none() && d.code != fixing { fixes(state, &again, &d) } else { Vec::new() };
        state.roll_back(journal);
        for extra in more.into_iter().filter(|m| m.wait.is_none()) {
            let mut longer = plan.clone();
            longer.push(extra);
            self.attempt(state, longer, d.code, depth - 1);
        }
    }
}

/// The clauses of a remedy as one sentence: "Deactivate `kasia`'s account, then activate `marek`'s account."
/// Every clause starts with an ASCII word or a backtick, so an ASCII upper
/// case is enough (and keeps Unicode's case tables, 16 KB, out of the component).
fn sentence(says: &[&str]) -> String {
    let mut text = String::new();
    for (i, clause) in says.iter().enumerate() {
        if i > 0 {
            text.push_str(", then ");
        }
        text.push_str(clause);
    }
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    text.push('.');
    text
}

/// `event` as the engine tries it: a remedy's blank password filled in.
fn tried(event: &Event) -> Event {
    let mut event = event.clone();
    if let EventKind::SetPassword(p) = &mut event.kind {
        if p.password.is_empty() && p.confirm.is_empty() {
            p.password = STAND_IN_PASSWORD.into();
            p.confirm = STAND_IN_PASSWORD.into();
        }
    }
    event
}

/// What might let `event`, denied `d`, through: the candidates, in the
/// order they are offered among remedies of the same size. Denials that
/// only a different event can get past (a deleted account, a bad number or
/// password, an unknown user, a protected group, refused settings) have none.
fn fixes(state: &State, event: &Event, d: &Decision) -> Vec<Fix> {
    let mut out = Vec::new();
    let u = event.kind.subject().and_then(|id| state.user(id));
    // NOT_PERMITTED: who acted (A3, A4, A8).
    let actor = match &event.kind {
        EventKind::BlockUser(a) | EventKind::UnblockUser(a) | EventKind::DeleteUser(a) => Some(&a.actor),
        EventKind::DeleteGroup(g) => Some(&g.actor),
        EventKind::CreateUser(c) => Some(&c.actor),
        EventKind::EditUser(e) => Some(&e.actor),
        EventKind::CreateGroup(c) => Some(&c.actor),
        EventKind::EditGroup(e) => Some(&e.actor),
        _ => None,
    }
    .and_then(|id| state.user(id));
    let now = event.at;
    match (d.code, u) {
        (Code::LicenseNotFound, Some(_)) if d.rule == "L2" => out.push(settings(
            "buy the organisation's External licence, which serves every external user".into(),
            SettingsChange { external_license: Some(true), ..no_change() },
        )),
        (Code::LicenseNotFound, Some(u)) if d.rule == "L5" => {
            for license in LicenseType::ALL.into_iter().filter(|&t| u.selector(t) == model::Selector::Disabled) {
                out.push(fix(
                    format!("switch `{}`'s {} licence from disabled to unassigned", u.id(), license.name()),
                    vec![EventKind::Unassign(LicenseEvent { user: u.id().into(), license })],
                ));
            }
            licence(state, u, licensing::claimed(state, u), true, now, &mut out);
        }
        (Code::LicenseNotFound, Some(u)) => {
            licence(state, u, licensing::claimed(state, u), false, now, &mut out);
            if !state.settings().auto_free {
                out.push(settings(
                    "turn auto-free on, so that a licence idle long enough is taken".into(),
                    SettingsChange { auto_free: Some(true), ..no_change() },
                ));
            }
        }
        (Code::LicenseExpired, Some(u)) => {
            licence(state, u, licensing::claimed(state, u), true, now, &mut out);
            out.push(fix(
                format!("remove `{}` from Mobile Users, so that the next sync starts a new temporary licence", u.id()),
                vec![EventKind::RemoveMobileUser(u.id().into())],
            ));
        }
        (Code::NoLicenseAvailable, Some(u)) => {
            if let EventKind::Assign(e) = &event.kind {
                licence(state, u, e.license, false, now, &mut out);
            }
        }
        (Code::NotAvailableInTrial, _) => {
            out.push(settings("end the trial period".into(), SettingsChange { trial: Some(false), ..no_change() }));
        }
        (Code::SeatLimitReached, _) => {
            // Accounts without an open session first: nobody is logged out.
            let me = event.kind.subject();
            let mut active: Vec<UserRef> = state
                .users()
                .iter()
                .filter(|a| a.account == AccountState::Active && Some(a.id()) != me)
                .collect();
            active.sort_by_key(|a| state.session(a.ix).is_some());
            for a in active.into_iter().take(CHOICES) {
                out.push(fix(format!("deactivate `{}`'s account, freeing its seat", a.id()), vec![EventKind::Deactivate(a.id().into())]));
            }
            let seats = state.settings().max_active_users.unwrap_or(0).saturating_add(1);
            out.push(settings(
                format!("buy one more seat ({seats} active accounts in all)"),
                SettingsChange { max_active_users: Some(seats), ..no_change() },
            ));
        }
        (Code::PasswordRequired, Some(u)) => out.push(fix(
            format!("set a password for `{}`", u.id()),
            vec![EventKind::SetPassword(PasswordEvent { user: u.id().into(), password: String::new(), confirm: String::new() })],
        )),
        (Code::AccountInactive, Some(u)) => {
            out.push(fix(format!("activate `{}`'s account", u.id()), vec![EventKind::Activate(u.id().into())]));
        }
        (Code::AccountBlocked, Some(u)) => {
            if let Some(admin) = administrator(state, u) {
                out.push(fix(
                    format!("unblock `{}` (as `{}`)", u.id(), admin.id()),
                    vec![EventKind::UnblockUser(UserAction { actor: admin.id().into(), user: u.id().into() })],
                ));
            }
        }
        (Code::AlreadyLoggedIn | Code::SessionInUse, Some(u)) => {
            let id = || u.id().to_string();
            if let Some(at) = d.valid_until {
                out.push(Fix {
                    says: format!("wait until {}, when the open session has gone idle", format_rfc3339(at)),
                    events: Vec::new(),
                    wait: Some(at),
                });
            }
            if d.code == Code::SessionInUse {
                // S4 closes a session whose tab is gone: the heartbeat says so.
                out.push(fix(
                    format!("`{}`'s tab is closed (its heartbeat reports it)", u.id()),
                    vec![EventKind::Activity(ActivityEvent { user: id(), tab_open: false })],
                ));
            } else {
                out.push(fix(format!("close `{}`'s open session", u.id()), vec![EventKind::CloseSession(id())]));
            }
            out.push(fix(format!("`{}` logs out of the open session", u.id()), vec![EventKind::Logout(id())]));
        }
        (Code::NotPermitted, _) => {
            if let Some(actor) = actor {
                permission(state, actor, &mut out);
            }
        }
        (Code::FeatureNotInPlan | Code::FeatureDisabled, Some(u)) => match &event.kind {
            EventKind::Call(_) => feature(state, u, FeatureSet::Calls, d.code, &mut out),
            EventKind::Sms(_) => feature(state, u, FeatureSet::Sms, d.code, &mut out),
            EventKind::SaveFeatures(e) => plan(state, &e.features, &mut out),
            _ => {}
        },
        (Code::CountryNotAllowed, Some(u)) => {
            if let Some(code) = d.calling_code {
                let mut allowed = u.features().clone();
                allowed.country_filter.allowed.push(code.into());
                out.push(save(u, format!("allow +{code} for `{}`", u.id()), allowed));
                let mut off = u.features().clone();
                off.country_filter.enabled = false;
                out.push(save(u, format!("turn `{}`'s country filter off", u.id()), off));
            }
        }
        _ => {}
    }
    out
}

/// A licence of type `license` for `u`: a free one (of either type, when
/// the administrator `assign`s), else the longest-idle holder's, else one
/// bought. With `assign` false the denied event takes it itself (L6, L10).
fn licence(state: &State, u: UserRef, license: LicenseType, assign: bool, now: Instant, out: &mut Vec<Fix>) {
    let give = |events: &mut Vec<EventKind>, license: LicenseType| {
        if assign {
            events.push(EventKind::Assign(LicenseEvent { user: u.id().into(), license }));
        }
    };
    if assign {
        for t in [license, license.other()].into_iter().filter(|&t| state.free(t) > 0) {
            let mut events = Vec::new();
            give(&mut events, t);
            out.push(fix(format!("assign `{}` a free {} licence", u.id(), t.name()), events));
        }
    }
    if state.free(license) > 0 {
        return;
    }
    let name = license.name();
    let then = if assign { format!(", and assign it to `{}`", u.id()) } else { String::new() };
    let holder = state.oldest_inactive_holder(license, Instant::MAX);
    let unassign = holder.and_then(|h| Some((h, h.inactivity_instant()?))).map(|(h, since)| {
        let days = now.saturating_sub(since).max(0) / DAY;
        let mut events = vec![EventKind::Unassign(LicenseEvent { user: h.id().into(), license })];
        give(&mut events, license);
        (days, fix(format!("unassign the {name} licence of `{}`, idle for {days} days{then}", h.id()), events))
    });
    let bought = state.settings().licenses.purchased(license).saturating_add(1);
    let mut change = no_change();
    match license {
        LicenseType::Standard => change.standard_licenses = Some(bought),
        LicenseType::Inspections => change.inspections_licenses = Some(bought),
    }
    let mut events = vec![EventKind::SetSettings(change)];
    give(&mut events, license);
    let buy = fix(format!("buy one more {name} licence ({bought} in all){then}"), events);
    // Taking the licence of someone who used it today comes after buying one.
    match unassign {
        Some((days, unassign)) if days > 0 => out.extend([unassign, buy]),
        Some((_, unassign)) => out.extend([buy, unassign]),
        None => out.push(buy),
    }
}

/// Calls or SMS (`need`) for `u`: a feature set the plan offers that has
/// them (`both` first, so nothing is lost), else a plan that offers `u`'s.
fn feature(state: &State, u: UserRef, need: FeatureSet, code: Code, out: &mut Vec<Fix>) {
    let Some(current) = features::current_plan(state) else { return };
    let set = [FeatureSet::Both, need].into_iter().find(|s| current.feature_sets.contains(s) && *s != u.features().feature_set);
    if let Some(set) = set {
        let mut f = u.features().clone();
        f.feature_set = set;
        f.recording &= current.recording;
        f.country_filter.enabled &= current.country_filter;
        out.push(save(u, format!("give `{}` the `{}` feature set", u.id(), set.name()), f));
    }
    if code == Code::FeatureNotInPlan {
        plan(state, u.features(), out);
    }
}

/// The first of the organisation's plans (the defaults come cheapest
/// first) that offers all of `f`.
fn plan(state: &State, f: &Features, out: &mut Vec<Fix>) {
    let settings = state.settings();
    let offers = |p: &&model::Plan| {
        p.name != settings.plan
            && p.feature_sets.contains(&f.feature_set)
            && (p.recording || !f.recording)
            && (p.country_filter || !f.country_filter.enabled)
    };
    if let Some(p) = settings.plans.iter().find(offers) {
        let mut needs = format!("the `{}` feature set", f.feature_set.name());
        if f.recording {
            needs.push_str(" with recording");
        }
        if f.country_filter.enabled {
            needs.push_str(if f.recording { " and the country filter" } else { " with the country filter" });
        }
        out.push(fix(format!("change the plan to `{}`, the first that offers {needs}", p.name), vec![EventKind::SetPlan(p.name.clone())]));
    }
}

/// A refused actor: unblocked by an administrator, or moved into the
/// first permission group that may manage users.
fn permission(state: &State, actor: UserRef, out: &mut Vec<Fix>) {
    let Some(admin) = administrator(state, actor) else { return };
    if actor.account == AccountState::Blocked {
        out.push(fix(
            format!("unblock `{}` (as `{}`)", actor.id(), admin.id()),
            vec![EventKind::UnblockUser(UserAction { actor: admin.id().into(), user: actor.id().into() })],
        ));
        return;
    }
    let may = |g: &&model::Group| {
        g.kind == GroupKind::Permission
            && actor.permission_group() != Some(g.id.as_str())
            && state.ancestors(&g.id).any(|a| a.permissions.iter().any(|p| p == accounts::MANAGE_USERS))
    };
    if let Some(g) = state.groups().find(may) {
        let mut e = EditUserEvent {
            actor: admin.id().into(),
            user: actor.id().into(),
            name: None,
            email: None,
            sip: None,
            business_number: None,
            call_presentation: None,
            sms_presentation: None,
            permission_group: None,
            groups: None,
        };
        e.permission_group = Some(g.id.clone());
        out.push(fix(
            format!("move `{}` into permission group `{}`, which may manage users (as `{}`)", actor.id(), g.id, admin.id()),
            vec![EventKind::EditUser(e)],
        ));
    }
}

/// Who can act for the administrator on `u`: the main administrator, else
/// the first user who may manage users; never `u`, a blocked or a deleted account.
fn administrator<'a>(state: &'a State, u: UserRef) -> Option<UserRef<'a>> {
    let able = |a: &UserRef| a.ix != u.ix && matches!(a.account, AccountState::Active | AccountState::Inactive);
    let users = state.users();
    users
        .iter()
        .find(|a| able(a) && a.main_admin)
        .or_else(|| users.iter().find(|a| able(a) && accounts::has_permission(state, *a, accounts::MANAGE_USERS)))
}

fn save(u: UserRef, says: String, features: Features) -> Fix {
    fix(says, vec![EventKind::SaveFeatures(SaveFeaturesEvent { user: u.id().into(), features })])
}

fn settings(says: String, change: SettingsChange) -> Fix {
    fix(says, vec![EventKind::SetSettings(change)])
}
