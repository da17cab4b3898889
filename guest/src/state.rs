//! One organisation's state, and the only code that changes it.
//!
//! Rules read the state through the accessors here; they change it only by
//! returning effects, which [`State::apply`] performs all or nothing. The
//! derived indexes (assigned counts, the auto-free queue, active accounts) are
//! kept up to date by routing every user change through one place
//! ([`State::change_user`]), so no rule ever rescans the population.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::{
    AccountState, Named, Effect, Group, GroupKind, Instant, LicenseType, OrgState, POSITION_GROUP, Problem,
    Selector, Session, Settings, User,
};

#[derive(Debug, Clone)]
pub struct State {
    settings: Settings,
    users: Vec<User>,
    by_id: HashMap<String, usize>,
    groups: Vec<Group>,
    sessions: BTreeMap<String, Session>,
    /// Users holding each licence type (by [`LicenseType::index`]).
    assigned: [u32; 2],
    /// Holders of each type that auto-free may consider, oldest inactivity
    /// first, ties by smallest id (L7).
    holders: [BTreeSet<(Instant, String)>; 2],
    /// Accounts in the `active` state (S1).
    active: u32,
}

/// What [`State::apply`] needs to undo one step.
enum Undo {
    User(usize, User),
    AddedUser,
    Session(String, Option<Session>),
    Settings(Settings),
    Group(usize, Group),
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem { field: field.into(), message: message.into() }
}

impl State {
    /// Checks `state` for consistency and builds the indexes. Every problem
    /// is reported; the built-in Position group is added when missing.
    pub fn load(state: OrgState) -> Result<State, Vec<Problem>> {
        let OrgState { settings, users, mut groups, sessions } = state;
        let mut problems = check_settings(&settings);

        if !groups.iter().any(|g| g.id == POSITION_GROUP) {
            groups.push(Group {
                id: POSITION_GROUP.into(),
                kind: GroupKind::User,
                parent: None,
                permissions: Vec::new(),
            });
        }
        problems.extend(check_groups(&groups));

        let mut loaded = State {
            settings,
            users: Vec::with_capacity(users.len()),
            by_id: HashMap::with_capacity(users.len()),
            groups,
            sessions: BTreeMap::new(),
            assigned: [0, 0],
            holders: [BTreeSet::new(), BTreeSet::new()],
            active: 0,
        };
        for (i, user) in users.into_iter().enumerate() {
            let field = format!("users[{i}]");
            let user_problems = loaded.check_user(&user, &field);
            if user_problems.is_empty() {
                loaded.insert_user(user);
            } else {
                problems.extend(user_problems);
            }
        }
        problems.extend(loaded.check_counts("users"));

        for (i, session) in sessions.into_iter().enumerate() {
            let field = format!("sessions[{i}]");
            if !loaded.by_id.contains_key(&session.user) {
                problems.push(problem(field, format!("unknown user `{}`", session.user)));
            } else if loaded.sessions.contains_key(&session.user) {
                problems.push(problem(field, format!("user `{}` already has a session", session.user)));
            } else {
                loaded.sessions.insert(session.user.clone(), session);
            }
        }

        if problems.is_empty() { Ok(loaded) } else { Err(problems) }
    }

    /// The whole state, in the order it was loaded (new users last).
    pub fn snapshot(&self) -> OrgState {
        OrgState {
            settings: self.settings.clone(),
            users: self.users.clone(),
            groups: self.groups.clone(),
            sessions: self.sessions.values().cloned().collect(),
        }
    }

    // ------------------------------------------------------------ reading

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.by_id.get(id).map(|&i| &self.users[i])
    }

    pub fn users(&self) -> &[User] {
        &self.users
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    pub fn session(&self, user: &str) -> Option<&Session> {
        self.sessions.get(user)
    }

    /// Whether `group` is `ancestor` itself or one of its subgroups, at any
    /// depth (A2, A3). An unknown `group` is within nothing.
    pub fn is_within(&self, group: &str, ancestor: &str) -> bool {
        let mut at = self.group(group);
        // Load refuses cycles; the bound only keeps a bad state from looping.
        for _ in 0..=self.groups.len() {
            match at {
                Some(g) if g.id == ancestor => return true,
                Some(g) => at = g.parent.as_deref().and_then(|p| self.group(p)),
                None => return false,
            }
        }
        false
    }

    /// The subgroups of `group` at any depth, each after its own subgroups
    /// (the order they can be removed in), otherwise in the order of `groups`.
    pub fn subgroups(&self, group: &str) -> Vec<&Group> {
        let mut out = Vec::new();
        self.collect_subgroups(group, &mut out, 0);
        out
    }

    fn collect_subgroups<'a>(&'a self, group: &str, out: &mut Vec<&'a Group>, depth: usize) {
        if depth > self.groups.len() {
            return;
        }
        for g in self.groups.iter().filter(|g| g.parent.as_deref() == Some(group)) {
            self.collect_subgroups(&g.id, out, depth + 1);
            out.push(g);
        }
    }

    /// Users in `group` or any of its subgroups, as permission group or user
    /// group (A3: membership of a subgroup counts as membership of its
    /// parent), in the order of `users`.
    pub fn members(&self, group: &str) -> Vec<&User> {
        let mut ids: BTreeSet<&str> = self.subgroups(group).into_iter().map(|g| g.id.as_str()).collect();
        ids.insert(group);
        let within = |id: &str| ids.contains(id);
        self.users
            .iter()
            .filter(|u| u.permission_group.as_deref().is_some_and(within) || u.groups.iter().any(|g| within(g)))
            .collect()
    }

    /// Users holding `license`.
    pub fn assigned(&self, license: LicenseType) -> u32 {
        self.assigned[license.index()]
    }

    /// Purchased licences of `license` nobody holds.
    pub fn free(&self, license: LicenseType) -> u32 {
        self.settings.licenses.purchased(license).saturating_sub(self.assigned(license))
    }

    /// Accounts in the `active` state.
    pub fn active_accounts(&self) -> u32 {
        self.active
    }

    /// The seat limit, when more accounts are active than it allows.
    fn over_seats(&self) -> Option<u32> {
        self.settings.max_active_users.filter(|&max| self.active > max)
    }

    /// The holder of `license` with the oldest inactivity instant, if that
    /// instant is at or before `cutoff` (ties: smallest id). Logarithmic.
    pub fn oldest_inactive_holder(&self, license: LicenseType, cutoff: Instant) -> Option<&User> {
        let (since, id) = self.holders[license.index()].first()?;
        (*since <= cutoff).then(|| self.user(id)).flatten()
    }

    // ------------------------------------------------------------ changing

    /// Performs `effects` in order, all or nothing: on a problem every effect
    /// already performed is undone and the problem names the effect.
    pub fn apply(&mut self, effects: &[Effect]) -> Result<(), Problem> {
        let mut undo = Vec::new();
        for (i, effect) in effects.iter().enumerate() {
            if let Err(message) = self.apply_one(effect, &mut undo) {
                self.undo(undo);
                return Err(problem(format!("effects[{i}]"), message));
            }
        }
        Ok(())
    }

    fn apply_one(&mut self, effect: &Effect, undo: &mut Vec<Undo>) -> Result<(), String> {
        match effect {
            Effect::Assign(a) => {
                let license = a.license;
                self.change_user(&a.user, undo, |u| {
                    if u.held_license().is_some() {
                        return Err(format!("user `{}` already holds a licence", u.id));
                    }
                    *u.selector_mut(license) = Selector::Assigned;
                    u.assigned_at = Some(a.at);
                    Ok(())
                })?;
                self.check_counts("").into_iter().next().map_or(Ok(()), |p| Err(p.message))
            }
            Effect::Free(c) => self.change_user(&c.user, undo, |u| {
                if u.selector(c.license) != Selector::Assigned {
                    return Err(format!("user `{}` holds no {} licence to free", u.id, c.license.name()));
                }
                *u.selector_mut(c.license) = Selector::Unassigned;
                Ok(())
            }),
            Effect::Unassign(c) => self.change_user(&c.user, undo, |u| {
                *u.selector_mut(c.license) = Selector::Unassigned;
                Ok(())
            }),
            Effect::Disable(c) => self.change_user(&c.user, undo, |u| {
                *u.selector_mut(c.license) = Selector::Disabled;
                Ok(())
            }),
            Effect::StartTemporary(t) => self.change_user(&t.user, undo, |u| {
                u.temporary_since = Some(t.at);
                Ok(())
            }),
            Effect::Touch(t) => self.change_user(&t.user, undo, |u| {
                u.last_sync = Some(t.at);
                Ok(())
            }),
            Effect::StartSession(s) => {
                self.require_user(&s.user)?;
                if self.sessions.contains_key(&s.user) {
                    return Err(format!("user `{}` already has a session", s.user));
                }
                let session = Session { user: s.user.clone(), login_at: s.at, last_activity: s.at, tab_open: true };
                self.set_session(&s.user, Some(session), undo);
                Ok(())
            }
            Effect::EndSession(user) => {
                if !self.sessions.contains_key(user) {
                    return Err(format!("user `{user}` has no session to end"));
                }
                self.set_session(user, None, undo);
                Ok(())
            }
            Effect::RecordActivity(a) => {
                let Some(session) = self.sessions.get(&a.user) else {
                    return Err(format!("user `{}` has no session", a.user));
                };
                let session = Session { last_activity: a.at, tab_open: a.tab_open, ..session.clone() };
                self.set_session(&a.user, Some(session), undo);
                Ok(())
            }
            Effect::SetState(s) => {
                self.change_user(&s.user, undo, |u| {
                    u.account = s.state;
                    if s.state == AccountState::Deleted {
                        // A6: a deleted user leaves every group and frees the SIP account.
                        u.permission_group = None;
                        u.groups.clear();
                        u.sip = None;
                    }
                    Ok(())
                })?;
                if let Some(max) = self.over_seats() {
                    return Err(format!("{} active accounts would exceed max_active_users {max}", self.active));
                }
                Ok(())
            }
            Effect::SetPassword(user) => self.change_user(user, undo, |u| {
                u.has_password = true;
                Ok(())
            }),
            Effect::AddUser(user) => {
                if let Some(p) = self.check_user(user, "user").into_iter().next() {
                    return Err(p.message);
                }
                self.insert_user(user.clone());
                undo.push(Undo::AddedUser);
                match self.check_counts("").into_iter().next() {
                    Some(p) => Err(p.message),
                    None if self.over_seats().is_some() => {
                        Err(format!("adding user `{}` would exceed max_active_users", user.id))
                    }
                    None => Ok(()),
                }
            }
            Effect::RemoveGroup(id) => {
                let Some(pos) = self.groups.iter().position(|g| &g.id == id) else {
                    return Err(format!("unknown group `{id}`"));
                };
                if self.groups.iter().any(|g| g.parent.as_deref() == Some(id)) {
                    return Err(format!("group `{id}` still has subgroups"));
                }
                let member = |u: &User| u.permission_group.as_deref() == Some(id) || u.groups.iter().any(|g| g == id);
                if let Some(u) = self.users.iter().find(|u| member(u)) {
                    return Err(format!("group `{id}` still has member `{}`", u.id));
                }
                undo.push(Undo::Group(pos, self.groups.remove(pos)));
                Ok(())
            }
            Effect::SaveFeatures(f) => self.change_user(&f.user, undo, |u| {
                u.features = f.features.clone();
                Ok(())
            }),
            Effect::SetAppToggles(t) => self.change_user(&t.user, undo, |u| {
                u.app = t.app;
                Ok(())
            }),
            Effect::SetPlan(name) => {
                if !self.settings.plans.iter().any(|p| &p.name == name) {
                    return Err(format!("unknown plan `{name}`"));
                }
                undo.push(Undo::Settings(self.settings.clone()));
                self.settings.plan = name.clone();
                Ok(())
            }
            Effect::ConfigChanged(c) => self.require_user(&c.user),
        }
    }

    fn require_user(&self, id: &str) -> Result<(), String> {
        if self.by_id.contains_key(id) { Ok(()) } else { Err(format!("unknown user `{id}`")) }
    }

    /// Changes one user through `change`, keeping the indexes right and
    /// recording the old value for undo. The one licence type per user
    /// invariant is checked after every change.
    fn change_user(
        &mut self,
        id: &str,
        undo: &mut Vec<Undo>,
        change: impl FnOnce(&mut User) -> Result<(), String>,
    ) -> Result<(), String> {
        let Some(&i) = self.by_id.get(id) else {
            return Err(format!("unknown user `{id}`"));
        };
        let mut user = self.users[i].clone();
        change(&mut user)?;
        if user.standard == Selector::Assigned && user.inspections == Selector::Assigned {
            return Err(format!("user `{id}` would hold two licence types"));
        }
        self.unindex(i);
        let old = std::mem::replace(&mut self.users[i], user);
        self.index(i);
        undo.push(Undo::User(i, old));
        Ok(())
    }

    fn set_session(&mut self, user: &str, session: Option<Session>, undo: &mut Vec<Undo>) {
        let old = match session {
            Some(s) => self.sessions.insert(user.to_string(), s),
            None => self.sessions.remove(user),
        };
        undo.push(Undo::Session(user.to_string(), old));
    }

    fn undo(&mut self, steps: Vec<Undo>) {
        for step in steps.into_iter().rev() {
            match step {
                Undo::User(i, old) => {
                    self.unindex(i);
                    self.users[i] = old;
                    self.index(i);
                }
                Undo::AddedUser => {
                    let i = self.users.len() - 1;
                    self.unindex(i);
                    let user = self.users.pop().expect("an added user to remove");
                    self.by_id.remove(&user.id);
                }
                Undo::Session(user, old) => match old {
                    Some(s) => {
                        self.sessions.insert(user, s);
                    }
                    None => {
                        self.sessions.remove(&user);
                    }
                },
                Undo::Settings(old) => self.settings = old,
                Undo::Group(pos, group) => self.groups.insert(pos, group),
            }
        }
    }

    fn insert_user(&mut self, user: User) {
        let i = self.users.len();
        self.by_id.insert(user.id.clone(), i);
        self.users.push(user);
        self.index(i);
    }

    /// Adds user `i` to the derived indexes.
    fn index(&mut self, i: usize) {
        let user = &self.users[i];
        if let Some(license) = user.held_license() {
            self.assigned[license.index()] += 1;
            if let Some(since) = user.inactivity_instant() {
                self.holders[license.index()].insert((since, user.id.clone()));
            }
        }
        if user.account == AccountState::Active {
            self.active += 1;
        }
    }

    /// Removes user `i` from the derived indexes.
    fn unindex(&mut self, i: usize) {
        let user = &self.users[i];
        if let Some(license) = user.held_license() {
            self.assigned[license.index()] -= 1;
            if let Some(since) = user.inactivity_instant() {
                self.holders[license.index()].remove(&(since, user.id.clone()));
            }
        }
        if user.account == AccountState::Active {
            self.active -= 1;
        }
    }

    /// A user record's consistency with the state: a new, non-empty id, one
    /// licence type at most, known groups of the right kind.
    fn check_user(&self, user: &User, field: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        if user.id.is_empty() {
            problems.push(problem(format!("{field}.id"), "a user needs an id"));
        } else if self.by_id.contains_key(&user.id) {
            problems.push(problem(format!("{field}.id"), format!("duplicate user id `{}`", user.id)));
        }
        if user.standard == Selector::Assigned && user.inspections == Selector::Assigned {
            problems.push(problem(
                field,
                "both standard and inspections are assigned; a user holds one licence type at most",
            ));
        }
        if let Some(id) = &user.permission_group {
            match self.group(id) {
                Some(g) if g.kind == GroupKind::Permission => {}
                Some(_) => problems.push(problem(
                    format!("{field}.permission_group"),
                    format!("`{id}` is a user group, not a permission group"),
                )),
                None => problems.push(problem(format!("{field}.permission_group"), format!("unknown group `{id}`"))),
            }
        }
        for (j, id) in user.groups.iter().enumerate() {
            match self.group(id) {
                Some(g) if g.kind == GroupKind::User => {}
                Some(_) => problems.push(problem(
                    format!("{field}.groups[{j}]"),
                    format!("`{id}` is a permission group, not a user group"),
                )),
                None => problems.push(problem(format!("{field}.groups[{j}]"), format!("unknown group `{id}`"))),
            }
        }
        problems
    }

    /// Licence types over-assigned and accounts over the seat limit.
    fn check_counts(&self, field: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        for license in LicenseType::ALL {
            let (assigned, purchased) = (self.assigned(license), self.settings.licenses.purchased(license));
            if assigned > purchased {
                problems.push(problem(
                    field,
                    format!(
                        "{assigned} {} licences assigned but {purchased} purchased ({} over)",
                        license.name(),
                        assigned - purchased
                    ),
                ));
            }
        }
        if let Some(max) = self.over_seats() {
            problems.push(problem(field, format!("{} active accounts but max_active_users is {max}", self.active)));
        }
        problems
    }
}

fn check_settings(settings: &Settings) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, plan) in settings.plans.iter().enumerate() {
        if settings.plans[..i].iter().any(|p| p.name == plan.name) {
            problems.push(problem(format!("settings.plans[{i}].name"), format!("duplicate plan `{}`", plan.name)));
        }
    }
    if !settings.plans.iter().any(|p| p.name == settings.plan) {
        let known: Vec<&str> = settings.plans.iter().map(|p| p.name.as_str()).collect();
        problems.push(problem(
            "settings.plan",
            format!("unknown plan `{}` (known: {})", settings.plan, known.join(", ")),
        ));
    }
    if !(1..=31).contains(&settings.billing_day) {
        problems.push(problem("settings.billing_day", "must be a day of the month, 1 to 31"));
    }
    let code = &settings.home_country_code;
    if code.is_empty() || code.len() > 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        problems.push(problem("settings.home_country_code", format!("`{code}` is not a calling code (1 to 3 digits)")));
    }
    problems
}

fn check_groups(groups: &[Group]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let find = |id: &str| groups.iter().find(|g| g.id == id);
    for (i, group) in groups.iter().enumerate() {
        if groups[..i].iter().any(|g| g.id == group.id) {
            problems.push(problem(format!("groups[{i}].id"), format!("duplicate group id `{}`", group.id)));
        }
        let Some(parent) = &group.parent else { continue };
        match find(parent) {
            None => problems.push(problem(format!("groups[{i}].parent"), format!("unknown group `{parent}`"))),
            Some(p) if p.kind != group.kind => problems.push(problem(
                format!("groups[{i}].parent"),
                format!("`{parent}` is a group of another kind"),
            )),
            Some(_) => {
                // Walk up: reaching this group again means a cycle.
                let mut seen = 0;
                let mut at = find(parent);
                while let Some(g) = at {
                    if g.id == group.id || seen > groups.len() {
                        problems.push(problem(format!("groups[{i}].parent"), "groups form a cycle"));
                        break;
                    }
                    seen += 1;
                    at = g.parent.as_deref().and_then(find);
                }
            }
        }
    }
    problems
}
