//! One organisation's state, and the only code that changes it.
//!
//! Rules read the state through the accessors here; they change it only by
//! returning effects, which [`State::apply`] performs all or nothing. The
//! derived indexes (assigned counts, the auto-free queue, active accounts) are
//! kept up to date by routing every user change through one place
//! ([`State::change_core`] / [`State::change_record`]), so no rule ever
//! rescans the population.
//!
//! Users live in [`Users`]: a dense vector addressed by [`UserIx`], with ids
//! interned once. Groups are kept as the contract's records, with an index
//! by id, a count of each group's subgroups and one of its members, so that
//! no group operation is worse than linear (removing one is constant time).

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

use crate::decision::Effect;
use crate::model::{
    self, AccountState, BILLING_DAY_RANGE, DAYS_RANGE, FIRST_INSTANT, Group, GroupKind, IDLE_MINUTES_RANGE, Instant,
    LAST_INSTANT, LicenseType, Named, OrgState, POSITION_GROUP, Population, Problem, Selector, Session, Settings,
    SettingsChange, User,
};
use crate::holders::Holders;
use crate::users::{Core, DEFAULT_PROFILE, Profile, Record, UserIx, UserRef, Users, parts, population_row};

/// An open panel session (S3–S5); at most one per user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenSession {
    pub login_at: Instant,
    pub last_activity: Instant,
    pub tab_open: bool,
}

#[derive(Debug, Clone)]
pub struct State {
    settings: Settings,
    users: Users,
    groups: Groups,
    sessions: Sessions,
    /// Users holding each licence type (by [`LicenseType::index`]).
    assigned: [u32; 2],
    /// Holders of each type that auto-free may consider, oldest inactivity
    /// first, ties by smallest id (L7).
    holders: [Holders; 2],
    /// Accounts in the `active` state (S1).
    active: u32,
    /// Users in each group, by group id (as permission group or user group):
    /// a group with members can't be removed.
    members: HashMap<String, u32, FxBuildHasher>,
}

/// The open sessions, by user position (few: people logged in to the panel).
#[derive(Debug, Clone, Default)]
struct Sessions(Vec<(UserIx, OpenSession)>);

impl Sessions {
    fn find(&self, user: UserIx) -> Result<usize, usize> {
        self.0.binary_search_by_key(&user, |(u, _)| *u)
    }

    fn get(&self, user: UserIx) -> Option<&OpenSession> {
        self.find(user).ok().map(|i| &self.0[i].1)
    }

    fn contains(&self, user: UserIx) -> bool {
        self.find(user).is_ok()
    }

    /// Sets or clears `user`'s session; the one it had before.
    fn set(&mut self, user: UserIx, session: Option<OpenSession>) -> Option<OpenSession> {
        match (self.find(user), session) {
            (Ok(i), Some(s)) => Some(std::mem::replace(&mut self.0[i].1, s)),
            (Ok(i), None) => Some(self.0.remove(i).1),
            (Err(i), Some(s)) => {
                self.0.insert(i, (user, s));
                None
            }
            (Err(_), None) => None,
        }
    }
}

/// The organisation's groups, in the order they were given, with an index.
/// A removed group leaves its slot empty, so that removing a group (and
/// undoing that) takes constant time, not a shift and a reindex of all the
/// others; [`Groups::compact`] drops the empty slots once they are most.
#[derive(Debug, Clone, Default)]
struct Groups {
    slots: Vec<Option<Group>>,
    /// Slot by id, of every group there is.
    index: HashMap<String, usize, FxBuildHasher>,
    /// How many subgroups each group has, by the parent's id: counted when
    /// first asked for (removing a group), then kept up to date.
    children: Option<HashMap<String, u32, FxBuildHasher>>,
}

impl Groups {
    fn get(&self, id: &str) -> Option<&Group> {
        self.index.get(id).and_then(|&i| self.slots[i].as_ref())
    }

    /// The groups, in order.
    fn iter(&self) -> impl Iterator<Item = &Group> {
        self.slots.iter().flatten()
    }

    /// How many groups there are.
    fn len(&self) -> usize {
        self.index.len()
    }

    /// Adds a group; `false` when its id is taken.
    fn push(&mut self, group: Group) -> bool {
        if self.index.contains_key(&group.id) {
            return false;
        }
        self.index.insert(group.id.clone(), self.slots.len());
        self.count_child(&group, 1);
        self.slots.push(Some(group));
        true
    }

    /// Takes the group out of slot `pos` (which [`Groups::insert`] can fill again).
    fn remove(&mut self, pos: usize) -> Option<Group> {
        let group = self.slots.get_mut(pos)?.take()?;
        self.index.remove(&group.id);
        self.count_child(&group, -1);
        Some(group)
    }

    /// Puts `group` back in slot `pos`, which [`Groups::remove`] emptied.
    fn insert(&mut self, pos: usize, group: Group) {
        self.index.insert(group.id.clone(), pos);
        self.count_child(&group, 1);
        self.slots[pos] = Some(group);
    }

    /// Puts `group` in slot `pos` (the same id); the group that was there.
    fn replace(&mut self, pos: usize, group: Group) -> Option<Group> {
        self.count_child(&group, 1);
        let old = self.slots.get_mut(pos)?.replace(group)?;
        self.count_child(&old, -1);
        Some(old)
    }

    /// Takes the last group off (undoing a push).
    fn pop(&mut self) {
        if let Some(g) = self.slots.pop().flatten() {
            self.index.remove(&g.id);
            self.count_child(&g, -1);
        }
    }

    fn has_subgroups(&mut self, id: &str) -> bool {
        let children = self.children.get_or_insert_with(|| {
            let mut counts: HashMap<String, u32, FxBuildHasher> = HashMap::default();
            for parent in self.slots.iter().flatten().filter_map(|g| g.parent.as_ref()) {
                *counts.entry(parent.clone()).or_insert(0) += 1;
            }
            counts
        });
        children.get(id).is_some_and(|&n| n > 0)
    }

    fn count_child(&mut self, group: &Group, by: i32) {
        if let (Some(children), Some(parent)) = (&mut self.children, &group.parent) {
            let n = children.entry(parent.clone()).or_insert(0);
            *n = n.saturating_add_signed(by);
            if *n == 0 {
                children.remove(parent);
            }
        }
    }

    /// Drops the empty slots when they are most of them: positions change,
    /// so only between changes (no undo pending).
    fn compact(&mut self) {
        if self.slots.len() > 64 && self.index.len() * 2 < self.slots.len() {
            self.slots.retain(Option::is_some);
            for (i, g) in self.slots.iter().flatten().enumerate() {
                self.index.insert(g.id.clone(), i);
            }
        }
    }
}

/// What undoes a trial's effects ([`State::apply_trial`]).
#[derive(Default)]
pub struct Journal(Vec<Undo>);

/// What [`State::apply`] needs to undo one step.
enum Undo {
    Core(UserIx, Core),
    Record(UserIx, Box<Record>),
    AddedUser,
    Session(UserIx, Option<OpenSession>),
    Settings(Box<Settings>),
    /// A group removed from this position.
    Group(usize, Group),
    /// A group added last.
    AddedGroup,
    /// A group replaced at this position.
    ChangedGroup(usize, Group),
}

pub(crate) fn problem(field: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem { field: field.into(), message: message.into(), over_assigned: None }
}

/// Builds a state from parts given in any number of pieces (the contract's
/// `loader`): settings first, then groups, users and sessions. Every problem
/// is collected, in the order of the parts (settings, groups, each user,
/// licence counts, sessions); [`Loader::finish`] gives the state only when
/// there is none.
pub struct Loader {
    state: State,
    /// The groups as given, duplicates included (checked once all are known).
    groups: Vec<Group>,
    /// Problems with the settings.
    settings_problems: Vec<Problem>,
    /// Refused users: each one's position and problems, in order.
    refused: Vec<(u32, Vec<Problem>)>,
    users_seen: u32,
    /// Each stored user's position among the users given, once one was refused.
    positions: Option<Vec<u32>>,
    sessions: Vec<Session>,
}

impl Loader {
    pub fn new(settings: Settings) -> Loader {
        let settings_problems = check_settings(&settings);
        let state = State {
            settings,
            users: Users::default(),
            groups: Groups::default(),
            sessions: Sessions::default(),
            assigned: [0, 0],
            holders: [Holders::default(), Holders::default()],
            active: 0,
            members: HashMap::default(),
        };
        Loader {
            state,
            groups: Vec::new(),
            settings_problems,
            refused: Vec::new(),
            users_seen: 0,
            positions: None,
            sessions: Vec::new(),
        }
    }

    /// Expects `users` more users with `text` bytes of ids, names and
    /// e-mails, so the state grows once instead of doubling as they come.
    pub fn reserve(&mut self, users: usize, text: usize) {
        self.state.users.reserve(users, text);
    }

    pub fn add_groups(&mut self, groups: impl IntoIterator<Item = Group>) {
        for group in groups {
            // The first of two groups with one id is the one users refer to.
            self.state.groups.push(group.clone());
            self.groups.push(group);
        }
    }

    pub fn add_users(&mut self, users: impl IntoIterator<Item = User>) {
        for user in users {
            let (id, name, email, core, profile) = parts(user);
            self.add(&id, &name, &email, core, Some(profile));
        }
    }

    /// Users in columns (a licence listing's), added one by one.
    pub fn add_population(&mut self, p: &Population) {
        for i in 0..p.standard.len() {
            let (id, name, email, core) = population_row(p, i);
            self.add(id, name, email, core, None);
        }
    }

    /// Adds one user, or records why it is refused: an empty or taken id,
    /// two licence types.
    fn add(&mut self, id: &str, name: &str, email: &str, core: Core, profile: Option<Profile>) {
        let position = self.users_seen;
        self.users_seen += 1;
        // The field names only a refused user's problems: built only then.
        let field = || format!("users[{position}]");
        let mut problems = check_user(id, &core, &field);
        let profile = if problems.is_empty() {
            match self.state.users.add(id, name, email, core, profile) {
                Ok(ix) => {
                    self.state.index(ix);
                    if let Some(positions) = &mut self.positions {
                        positions.push(position);
                    }
                    return;
                }
                Err(profile) => {
                    problems.push(problem(format!("{}.id", field()), format!("duplicate user id `{id}`")));
                    profile
                }
            }
        } else {
            profile
        };
        // A refused user's groups are checked now, against the groups given so far.
        let profile = profile.unwrap_or_else(|| DEFAULT_PROFILE.clone());
        problems.extend(self.state.check_groups_of(profile.permission_group.as_deref(), &profile.groups, &field()));
        self.refused.push((position, problems));
        if self.positions.is_none() {
            self.positions = Some((0..self.state.users.len() as u32).collect());
        }
    }

    pub fn add_sessions(&mut self, sessions: impl IntoIterator<Item = Session>) {
        self.sessions.extend(sessions);
    }

    /// The state, or every problem found.
    pub fn finish(mut self) -> Result<State, Vec<Problem>> {
        // The built-in Position group exists in every organisation (A2).
        if self.state.groups.get(POSITION_GROUP).is_none() {
            let position =
                Group { id: POSITION_GROUP.into(), kind: GroupKind::User, name: None, parent: None, permissions: Vec::new() };
            self.state.groups.push(position.clone());
            self.groups.push(position);
        }
        // In the order of the parts: settings, groups, each user, counts, sessions.
        let mut problems = std::mem::take(&mut self.settings_problems);
        problems.extend(check_groups(&self.groups));
        // Refused users' problems and the others' group problems, by position.
        let mut refused = std::mem::take(&mut self.refused).into_iter().peekable();
        for u in self.state.users.iter() {
            let position = self.positions.as_ref().map_or(u.ix.0, |p| p[u.ix.index()]);
            while let Some((_, found)) = refused.next_if(|(at, _)| *at < position) {
                problems.extend(found);
            }
            if u.permission_group().is_some() || !u.groups().is_empty() {
                problems.extend(self.state.check_groups_of(u.permission_group(), u.groups(), &format!("users[{position}]")));
            }
        }
        problems.extend(refused.flat_map(|(_, found)| found));
        problems.extend(self.state.check_counts("users"));
        for (i, session) in self.sessions.into_iter().enumerate() {
            let field = format!("sessions[{i}]");
            match self.state.users.find(&session.user) {
                None => problems.push(problem(field, format!("unknown user `{}`", session.user))),
                Some(ix) if self.state.sessions.contains(ix) => {
                    problems.push(problem(field, format!("user `{}` already has a session", session.user)))
                }
                Some(ix) if self.state.users.get(ix).account == AccountState::Deleted => problems.push(problem(
                    field,
                    format!("user `{}` is deleted: a deleted account has no session (A6)", session.user),
                )),
                Some(_) if [session.login_at, session.last_activity].iter().any(|&at| !in_range(at)) => {
                    problems.push(problem(field, OUT_OF_RANGE))
                }
                Some(ix) => {
                    let open = OpenSession {
                        login_at: session.login_at,
                        last_activity: session.last_activity,
                        tab_open: session.tab_open,
                    };
                    self.state.sessions.set(ix, Some(open));
                }
            }
        }
        if problems.is_empty() { Ok(self.state) } else { Err(problems) }
    }
}

impl State {
    /// Checks `state` for consistency and builds the indexes. Every problem
    /// is reported; the built-in Position group is added when missing.
    pub fn load(state: OrgState) -> Result<State, Vec<Problem>> {
        let OrgState { settings, users, groups, sessions } = state;
        let mut loader = Loader::new(settings);
        loader.reserve(users.len(), users.iter().map(|u| u.id.len() + u.name.len() + u.email.len()).sum());
        loader.add_groups(groups);
        loader.add_users(users);
        loader.add_sessions(sessions);
        loader.finish()
    }

    /// The whole state, in the order it was loaded (new users last).
    pub fn snapshot(&self) -> OrgState {
        let mut sessions: Vec<Session> = self
            .sessions
            .0
            .iter()
            .map(|&(ix, s)| Session {
                user: self.users.get(ix).id().to_string(),
                login_at: s.login_at,
                last_activity: s.last_activity,
                tab_open: s.tab_open,
            })
            .collect();
        sessions.sort_by(|a, b| a.user.cmp(&b.user));
        OrgState {
            settings: self.settings.clone(),
            users: self.users.iter().map(|u| u.to_user()).collect(),
            groups: self.groups.iter().cloned().collect(),
            sessions,
        }
    }

    // ------------------------------------------------------------ reading

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn users(&self) -> &Users {
        &self.users
    }

    pub fn user(&self, id: &str) -> Option<UserRef<'_>> {
        self.users.find(id).map(|ix| self.users.get(ix))
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.get(id)
    }

    /// The groups, in the order they were given (new ones last).
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter()
    }

    pub fn session(&self, user: UserIx) -> Option<&OpenSession> {
        self.sessions.get(user)
    }

    /// Every open session, by user position.
    pub fn sessions(&self) -> impl Iterator<Item = (UserIx, &OpenSession)> {
        self.sessions.0.iter().map(|(ix, s)| (*ix, s))
    }

    /// Whether `group` is `ancestor` itself or one of its subgroups, at any
    /// depth (A2, A3). An unknown `group` is within nothing.
    pub fn is_within(&self, group: &str, ancestor: &str) -> bool {
        self.ancestors(group).any(|g| g.id == ancestor)
    }

    /// `group` itself, then its parent, its parent's parent and so on.
    pub fn ancestors<'a>(&'a self, group: &str) -> impl Iterator<Item = &'a Group> + 'a {
        let first = self.group(group);
        // Load refuses cycles; the bound only keeps a bad state from looping.
        std::iter::successors(first, |g| g.parent.as_deref().and_then(|p| self.group(p))).take(self.groups.len())
    }

    /// The subgroups of `group` at any depth, each after its own subgroups
    /// (the order they can be removed in), otherwise in the order of `groups`.
    /// Linear in the number of groups.
    pub fn subgroups(&self, group: &str) -> Vec<&Group> {
        let mut children: HashMap<&str, Vec<&Group>, FxBuildHasher> = HashMap::default();
        for g in self.groups.iter() {
            if let Some(parent) = g.parent.as_deref() {
                children.entry(parent).or_default().push(g);
            }
        }
        // Depth first, children before their parent, without recursion (a
        // chain of groups may be deep); `seen` keeps a bad state from looping.
        let mut out = Vec::new();
        let mut seen = vec![false; self.groups.slots.len()];
        let mut stack: Vec<(&str, usize)> = vec![(group, 0)];
        while let Some((id, next)) = stack.pop() {
            let kids = children.get(id).map_or(&[][..], Vec::as_slice);
            match kids.get(next) {
                Some(kid) => {
                    stack.push((id, next + 1));
                    let i = self.groups.index.get(&kid.id).copied().unwrap_or(0);
                    if !std::mem::replace(&mut seen[i], true) {
                        stack.push((&kid.id, 0));
                    }
                }
                None if id != group => {
                    if let Some(g) = self.group(id) {
                        out.push(g);
                    }
                }
                None => {}
            }
        }
        out
    }

    /// Users in `group` or any of its subgroups, as permission group or user
    /// group (A3: membership of a subgroup counts as membership of its
    /// parent), in the order of `users`.
    pub fn members(&self, group: &str) -> Vec<UserRef<'_>> {
        // Membership by group position: a flag per group.
        let mut inside = vec![false; self.groups.slots.len()];
        for g in self.subgroups(group).into_iter().map(|g| g.id.as_str()).chain([group]) {
            if let Some(&i) = self.groups.index.get(g) {
                inside[i] = true;
            }
        }
        let within = |id: &str| self.groups.index.get(id).is_some_and(|&i| inside[i]);
        self.users
            .iter()
            .filter(|u| u.permission_group().is_some_and(within) || u.groups().iter().any(|g| within(g)))
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
    pub fn oldest_inactive_holder(&self, license: LicenseType, cutoff: Instant) -> Option<UserRef<'_>> {
        let (since, ix) = self.holders[license.index()].first()?;
        (since <= cutoff).then(|| self.users.get(ix))
    }

    // ------------------------------------------------------------ changing

    /// Performs `effects` in order, all or nothing: on a problem every effect
    /// already performed is undone and the problem names the effect.
    pub fn apply(&mut self, effects: &[Effect]) -> Result<(), Problem> {
        self.apply_trial(effects, &mut Journal::default())?;
        // No undo is pending once applied for good: positions may change.
        self.groups.compact();
        Ok(())
    }

    /// [`State::apply`], keeping what undoes the effects in `journal`, so
    /// that [`State::roll_back`] can later return to the state before them:
    /// a trial of events that leaves nothing behind (explain's remedies).
    /// Groups are not compacted: the journal holds their positions.
    pub fn apply_trial(&mut self, effects: &[Effect], journal: &mut Journal) -> Result<(), Problem> {
        let mut undo = Vec::new();
        for (i, effect) in effects.iter().enumerate() {
            if let Err(message) = self.apply_one(effect, &mut undo) {
                self.undo(undo);
                return Err(problem(format!("effects[{i}]"), message));
            }
        }
        if journal.0.is_empty() {
            journal.0 = undo;
        } else {
            journal.0.extend(undo);
        }
        Ok(())
    }

    /// Undoes every effect `journal` kept, last first.
    pub fn roll_back(&mut self, journal: Journal) {
        self.undo(journal.0);
    }

    /// [`State::apply`] for a host's effects, naming users by id. Each is
    /// read just before it is performed, so an effect may name a user an
    /// earlier `add_user` created.
    pub fn apply_records(&mut self, effects: &[model::Effect]) -> Result<(), Problem> {
        let mut undo = Vec::new();
        for (i, record) in effects.iter().enumerate() {
            let applied = Effect::from_record(record, self).and_then(|effect| self.apply_one(&effect, &mut undo));
            if let Err(message) = applied {
                self.undo(undo);
                return Err(problem(format!("effects[{i}]"), message));
            }
        }
        self.groups.compact();
        Ok(())
    }

    fn apply_one(&mut self, effect: &Effect, undo: &mut Vec<Undo>) -> Result<(), String> {
        match effect {
            &Effect::Assign { user, license, at } => {
                self.change_core(user, undo, |u, id| {
                    if u.account == AccountState::Deleted {
                        return Err(format!("user `{id}` is deleted and can't hold a licence"));
                    }
                    if u.held_license().is_some() {
                        return Err(format!("user `{id}` already holds a licence"));
                    }
                    *u.selector_mut(license) = Selector::Assigned;
                    u.set_assigned_at(Some(at));
                    Ok(())
                })?;
                self.check_counts("").into_iter().next().map_or(Ok(()), |p| Err(p.message))
            }
            &Effect::Free { user, license } => self.change_core(user, undo, |u, id| {
                if u.selector(license) != Selector::Assigned {
                    return Err(format!("user `{id}` holds no {} licence to free", license.name()));
                }
                *u.selector_mut(license) = Selector::Unassigned;
                Ok(())
            }),
            &Effect::Unassign { user, license } => self.change_core(user, undo, |u, _| {
                *u.selector_mut(license) = Selector::Unassigned;
                Ok(())
            }),
            &Effect::Disable { user, license } => self.change_core(user, undo, |u, _| {
                *u.selector_mut(license) = Selector::Disabled;
                Ok(())
            }),
            &Effect::StartTemporary { user, at } => self.change_core(user, undo, |u, _| {
                u.set_temporary_since(Some(at));
                Ok(())
            }),
            &Effect::Touch { user, at } => self.change_core(user, undo, |u, _| {
                u.set_last_sync(Some(at));
                Ok(())
            }),
            &Effect::StartSession { user, at } => {
                self.require(user)?;
                if self.sessions.contains(user) {
                    return Err(format!("user `{}` already has a session", self.users.get(user).id()));
                }
                let session = OpenSession { login_at: at, last_activity: at, tab_open: true };
                self.set_session(user, Some(session), undo);
                Ok(())
            }
            &Effect::EndSession { user } => {
                self.require(user)?;
                if !self.sessions.contains(user) {
                    return Err(format!("user `{}` has no session to end", self.users.get(user).id()));
                }
                self.set_session(user, None, undo);
                Ok(())
            }
            &Effect::RecordActivity { user, at, tab_open } => {
                self.require(user)?;
                let Some(session) = self.sessions.get(user).copied() else {
                    return Err(format!("user `{}` has no session", self.users.get(user).id()));
                };
                self.set_session(user, Some(OpenSession { last_activity: at, tab_open, ..session }), undo);
                Ok(())
            }
            &Effect::SetState { user, state } => {
                if state == AccountState::Deleted {
                    // A6: nothing is lost with the account; its licence and session go first.
                    let u = self.users.get(user);
                    if u.held_license().is_some() || self.sessions.contains(user) {
                        return Err(format!("user `{}` still holds a licence or a session", u.id()));
                    }
                    // A6: a deleted user leaves every group and frees the SIP account.
                    self.change_record(user, undo, |r| {
                        let mut profile = r.profile().clone();
                        profile.permission_group = None;
                        profile.groups.clear();
                        profile.sip = None;
                        r.set_profile(profile);
                        r.core.account = state;
                        Ok(())
                    })?;
                } else {
                    self.change_core(user, undo, |u, _| {
                        u.account = state;
                        Ok(())
                    })?;
                }
                if let Some(max) = self.over_seats() {
                    return Err(format!("{} active accounts would exceed max_active_users {max}", self.active));
                }
                Ok(())
            }
            &Effect::SetPassword { user } => self.change_core(user, undo, |u, _| {
                u.has_password = true;
                Ok(())
            }),
            Effect::AddUser(user) => {
                let (id, name, email, core, profile) = parts((**user).clone());
                if let Some(p) = check_user(&id, &core, &|| "user".to_string()).into_iter().next() {
                    return Err(p.message);
                }
                if let Some(p) = self.check_groups_of(profile.permission_group.as_deref(), &profile.groups, "user").into_iter().next() {
                    return Err(p.message);
                }
                let ix =
                    self.users.add(&id, &name, &email, core, Some(profile)).map_err(|_| format!("duplicate user id `{id}`"))?;
                self.index(ix);
                undo.push(Undo::AddedUser);
                match self.check_counts("").into_iter().next() {
                    Some(p) => Err(p.message),
                    None if self.over_seats().is_some() => Err(format!("adding user `{id}` would exceed max_active_users")),
                    None => Ok(()),
                }
            }
            Effect::RemoveGroup(id) => {
                let Some(&pos) = self.groups.index.get(&**id) else {
                    return Err(format!("unknown group `{id}`"));
                };
                if self.groups.has_subgroups(id) {
                    return Err(format!("group `{id}` still has subgroups"));
                }
                if self.members.contains_key(&**id) {
                    // Found by a scan only to be named: the refusal ends the apply.
                    let member = |u: &UserRef| u.permission_group() == Some(&**id) || u.groups().iter().any(|g| g == &**id);
                    let who = self.users.iter().find(member).map_or(String::new(), |u| u.id().to_string());
                    return Err(format!("group `{id}` still has member `{who}`"));
                }
                if let Some(group) = self.groups.remove(pos) {
                    undo.push(Undo::Group(pos, group));
                }
                Ok(())
            }
            Effect::SaveFeatures { user, features } => self.change_profile(*user, undo, |p| {
                p.features = (**features).clone();
            }),
            &Effect::SetAppToggles { user, app } => self.change_profile(user, undo, |p| p.app = app),
            Effect::SetPlan(name) => {
                if !self.settings.plans.iter().any(|p| p.name == **name) {
                    return Err(format!("unknown plan `{name}`"));
                }
                undo.push(Undo::Settings(Box::new(self.settings.clone())));
                self.settings.plan = name.to_string();
                Ok(())
            }
            &Effect::ConfigChanged { user, .. } => self.require(user),
            &Effect::ResetMobileUser { user } => self.change_core(user, undo, |u, _| {
                u.standard = Selector::Unassigned;
                u.inspections = Selector::Unassigned;
                u.set_temporary_since(None);
                u.set_last_sync(None);
                u.set_assigned_at(None);
                Ok(())
            }),
            Effect::EditUser { user, details } => {
                self.require(*user)?;
                if self.users.get(*user).id() != details.user {
                    return Err(format!("user at position {} is not `{}`", user.0, details.user));
                }
                if let Some(p) = self
                    .check_groups_of(details.permission_group.as_deref(), &details.groups, "user")
                    .into_iter()
                    .next()
                {
                    return Err(p.message);
                }
                let mut record = self.users.renamed(*user, &details.name, &details.email);
                let mut profile = record.profile().clone();
                profile.sip = details.sip.clone();
                profile.business_number = details.business_number.clone();
                profile.call_presentation = details.call_presentation.clone();
                profile.sms_presentation = details.sms_presentation.clone();
                profile.permission_group = details.permission_group.clone();
                profile.groups = details.groups.clone();
                record.set_profile(profile);
                self.change_record(*user, undo, |r| {
                    *r = record;
                    Ok(())
                })
            }
            Effect::AddGroup(group) => {
                if !self.groups.push((**group).clone()) {
                    return Err(format!("duplicate group id `{}`", group.id));
                }
                undo.push(Undo::AddedGroup);
                self.check_group_tree()
            }
            Effect::UpdateGroup(group) => {
                let Some(&pos) = self.groups.index.get(&group.id) else {
                    return Err(format!("unknown group `{}`", group.id));
                };
                if self.groups.get(&group.id).is_some_and(|g| g.kind != group.kind) {
                    return Err(format!("group `{}` can't change kind", group.id));
                }
                if let Some(old) = self.groups.replace(pos, (**group).clone()) {
                    undo.push(Undo::ChangedGroup(pos, old));
                }
                self.check_group_tree()
            }
            Effect::SetSettings(change) => {
                undo.push(Undo::Settings(Box::new(self.settings.clone())));
                change_settings(&mut self.settings, change);
                let problems = check_settings(&self.settings).into_iter().chain(self.check_counts(""));
                problems.map(|p| Err(p.message)).next().unwrap_or(Ok(()))
            }
        }
    }

    /// The groups as a whole still load: unique ids, known parents of the
    /// same kind, no cycle.
    fn check_group_tree(&self) -> Result<(), String> {
        let groups: Vec<Group> = self.groups.iter().cloned().collect();
        check_groups(&groups).into_iter().next().map_or(Ok(()), |p| Err(format!("{}: {}", p.field, p.message)))
    }

    fn require(&self, user: UserIx) -> Result<(), String> {
        if user.index() < self.users.len() { Ok(()) } else { Err(format!("no user at position {}", user.0)) }
    }

    /// Changes one user's licence and account fields through `change`,
    /// keeping the indexes right and recording the old value for undo. The
    /// one licence type per user invariant is checked after every change.
    fn change_core(
        &mut self,
        ix: UserIx,
        undo: &mut Vec<Undo>,
        change: impl FnOnce(&mut Core, &str) -> Result<(), String>,
    ) -> Result<(), String> {
        self.require(ix)?;
        let user = self.users.get(ix);
        let mut core = user.record.core;
        change(&mut core, user.id())?;
        if core.standard == Selector::Assigned && core.inspections == Selector::Assigned {
            return Err(format!("user `{}` would hold two licence types", user.id()));
        }
        let old = *self.users.core_mut(ix);
        self.reindex(ix, &old, core);
        undo.push(Undo::Core(ix, old));
        Ok(())
    }

    /// Changes a whole record (its profile, or a deletion): rare, so the old
    /// record is kept whole for undo.
    fn change_record(
        &mut self,
        ix: UserIx,
        undo: &mut Vec<Undo>,
        change: impl FnOnce(&mut Record) -> Result<(), String>,
    ) -> Result<(), String> {
        self.require(ix)?;
        let mut record = self.users.get(ix).record.clone();
        change(&mut record)?;
        self.unindex(ix);
        let old = self.users.replace(ix, record);
        self.index(ix);
        undo.push(Undo::Record(ix, Box::new(old)));
        Ok(())
    }

    fn change_profile(&mut self, ix: UserIx, undo: &mut Vec<Undo>, change: impl FnOnce(&mut Profile)) -> Result<(), String> {
        self.change_record(ix, undo, |r| {
            let mut profile = r.profile().clone();
            change(&mut profile);
            r.set_profile(profile);
            Ok(())
        })
    }

    fn set_session(&mut self, user: UserIx, session: Option<OpenSession>, undo: &mut Vec<Undo>) {
        let old = self.sessions.set(user, session);
        undo.push(Undo::Session(user, old));
    }

    fn undo(&mut self, steps: Vec<Undo>) {
        for step in steps.into_iter().rev() {
            match step {
                Undo::Core(ix, old) => {
                    let now = *self.users.core_mut(ix);
                    self.reindex(ix, &now, old);
                }
                Undo::Record(ix, old) => {
                    self.unindex(ix);
                    self.users.replace(ix, *old);
                    self.index(ix);
                }
                Undo::AddedUser => {
                    let ix = UserIx(self.users.len() as u32 - 1);
                    self.unindex(ix);
                    self.users.pop();
                }
                Undo::Session(user, old) => {
                    self.sessions.set(user, old);
                }
                Undo::Settings(old) => self.settings = *old,
                Undo::Group(pos, group) => self.groups.insert(pos, group),
                Undo::AddedGroup => self.groups.pop(),
                Undo::ChangedGroup(pos, group) => {
                    self.groups.replace(pos, group);
                }
            }
        }
    }

    /// Sets user `ix`'s core from `old` to `new`, keeping the indexes: a
    /// holder who stays a holder of the same type (a sync's touch) just moves
    /// in the auto-free queue.
    fn reindex(&mut self, ix: UserIx, old: &Core, new: Core) {
        let (before, after) = (old.held_license(), new.held_license());
        if before.is_some() && before == after && old.account == new.account {
            if let (Some(license), Some(since)) = (after, new.inactivity_instant()) {
                if old.inactivity_instant().is_some() {
                    *self.users.core_mut(ix) = new;
                    self.holders[license.index()].update(&self.users, since, ix);
                    return;
                }
            }
        }
        self.unindex(ix);
        *self.users.core_mut(ix) = new;
        self.index(ix);
    }

    /// Adds user `ix` to the derived indexes.
    fn index(&mut self, ix: UserIx) {
        let user = self.users.get(ix);
        for group in user.permission_group().into_iter().chain(user.groups().iter().map(String::as_str)) {
            match self.members.get_mut(group) {
                Some(n) => *n += 1,
                None => {
                    self.members.insert(group.to_string(), 1);
                }
            }
        }
        if let Some(license) = user.held_license() {
            self.assigned[license.index()] += 1;
            if let Some(since) = user.inactivity_instant() {
                self.holders[license.index()].insert(&self.users, since, ix);
            }
        }
        if user.account == AccountState::Active {
            self.active += 1;
        }
    }

    /// Removes user `ix` from the derived indexes.
    fn unindex(&mut self, ix: UserIx) {
        let user = self.users.get(ix);
        for group in user.permission_group().into_iter().chain(user.groups().iter().map(String::as_str)) {
            if let Some(n) = self.members.get_mut(group) {
                *n -= 1;
                if *n == 0 {
                    self.members.remove(group);
                }
            }
        }
        if let Some(license) = user.held_license() {
            self.assigned[license.index()] -= 1;
            if user.inactivity_instant().is_some() {
                self.holders[license.index()].remove(&self.users, ix);
            }
        }
        if user.account == AccountState::Active {
            self.active -= 1;
        }
    }

    /// A user's groups exist and are of the right kind.
    fn check_groups_of(&self, permission_group: Option<&str>, groups: &[String], field: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        if let Some(id) = permission_group {
            match self.group(id) {
                Some(g) if g.kind == GroupKind::Permission => {}
                Some(_) => problems.push(problem(
                    format!("{field}.permission_group"),
                    format!("`{id}` is a user group, not a permission group"),
                )),
                None => problems.push(problem(format!("{field}.permission_group"), format!("unknown group `{id}`"))),
            }
        }
        for (j, id) in groups.iter().enumerate() {
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
                problems.push(Problem {
                    over_assigned: Some(license),
                    ..problem(
                        field,
                        format!(
                            "{assigned} {} licences assigned but {purchased} purchased ({} over)",
                            license.name(),
                            assigned - purchased
                        ),
                    )
                });
            }
        }
        if let Some(max) = self.over_seats() {
            problems.push(problem(field, format!("{} active accounts but max_active_users is {max}", self.active)));
        }
        problems
    }
}

/// A user's own consistency: a non-empty id, one licence type at most;
/// `field` names the user in a problem.
fn check_user(id: &str, core: &Core, field: &dyn Fn() -> String) -> Vec<Problem> {
    let mut problems = Vec::new();
    if id.is_empty() {
        problems.push(problem(format!("{}.id", field()), "a user needs an id"));
    }
    if core.standard == Selector::Assigned && core.inspections == Selector::Assigned {
        problems.push(problem(field(), "both standard and inspections are assigned; a user holds one licence type at most"));
    } else if core.account == AccountState::Deleted && core.held_license().is_some() {
        problems.push(problem(field(), "a deleted user holds a licence; deleting an account frees it (A6)"));
    }
    let instants = [
        ("temporary_since", core.temporary_since()),
        ("last_sync", core.last_sync()),
        ("assigned_at", core.assigned_at()),
    ];
    for (name, at) in instants {
        if at.is_some_and(|at| !in_range(at)) {
            problems.push(problem(format!("{}.{name}", field()), OUT_OF_RANGE));
        }
    }
    problems
}

/// Whether `at` is within the years the engine takes (O1).
pub fn in_range(at: Instant) -> bool {
    (FIRST_INSTANT..=LAST_INSTANT).contains(&at)
}

const OUT_OF_RANGE: &str = "an instant must be within the years 1970 to 9999";

/// Applies a partial settings change (O1) to `settings`.
pub fn change_settings(settings: &mut Settings, change: &SettingsChange) {
    let SettingsChange {
        trial,
        standard_licenses,
        inspections_licenses,
        external_license,
        inspections_enabled,
        auto_assign,
        auto_free,
        temporary_days,
        inactive_days,
        max_active_users,
        idle_logout_minutes,
        home_country_code,
        billing_day,
    } = change;
    fn set<T: Clone>(slot: &mut T, value: &Option<T>) {
        if let Some(v) = value {
            *slot = v.clone();
        }
    }
    set(&mut settings.trial, trial);
    set(&mut settings.licenses.standard, standard_licenses);
    set(&mut settings.licenses.inspections, inspections_licenses);
    set(&mut settings.licenses.external, external_license);
    set(&mut settings.inspections_enabled, inspections_enabled);
    set(&mut settings.auto_assign, auto_assign);
    set(&mut settings.auto_free, auto_free);
    set(&mut settings.temporary_days, temporary_days);
    set(&mut settings.inactive_days, inactive_days);
    if let Some(max) = max_active_users {
        settings.max_active_users = Some(*max);
    }
    set(&mut settings.idle_logout_minutes, idle_logout_minutes);
    set(&mut settings.home_country_code, home_country_code);
    set(&mut settings.billing_day, billing_day);
}

/// The settings' own consistency: known and unique plans, and every value
/// in its range (O1).
pub fn check_settings(settings: &Settings) -> Vec<Problem> {
    let mut problems = Vec::new();
    // Plans are few, but an organisation file may hold any number: by name.
    let mut names: HashMap<&str, (), FxBuildHasher> = HashMap::default();
    for (i, plan) in settings.plans.iter().enumerate() {
        if names.insert(&plan.name, ()).is_some() {
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
    let ranges = [
        ("temporary_days", settings.temporary_days, &DAYS_RANGE, "days"),
        ("inactive_days", settings.inactive_days, &DAYS_RANGE, "days"),
        ("idle_logout_minutes", settings.idle_logout_minutes, &IDLE_MINUTES_RANGE, "minutes"),
    ];
    for (name, value, range, unit) in ranges {
        if !range.contains(&value) {
            problems.push(problem(
                format!("settings.{name}"),
                format!("{value} is out of range: {} to {} {unit}", range.start(), range.end()),
            ));
        }
    }
    if !BILLING_DAY_RANGE.contains(&settings.billing_day) {
        problems.push(problem("settings.billing_day", "must be a day of the month, 1 to 31"));
    }
    let code = &settings.home_country_code;
    if code.is_empty() || code.len() > 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        problems.push(problem("settings.home_country_code", format!("`{code}` is not a calling code (1 to 3 digits)")));
    }
    problems
}

/// Groups: unique ids, known parents of the same kind, parent chains that
/// end. Each problem comes with its group's position. Linear: every group's
/// parent chain is walked once, remembering where walks ended.
fn check_groups(groups: &[Group]) -> Vec<Problem> {
    let mut index: HashMap<&str, usize, FxBuildHasher> = HashMap::default();
    for (i, group) in groups.iter().enumerate() {
        index.entry(&group.id).or_insert(i);
    }
    // Whether each group's chain of parents never ends (a cycle, or leads into one).
    const NEW: u8 = 0;
    const WALKING: u8 = 1;
    const ENDS: u8 = 2;
    const ENDLESS: u8 = 3;
    let mut fate = vec![NEW; groups.len()];
    for start in 0..groups.len() {
        let mut chain = Vec::new();
        let mut at = Some(start);
        let endless = loop {
            let Some(i) = at else { break false };
            match fate[i] {
                NEW => {
                    fate[i] = WALKING;
                    chain.push(i);
                    at = groups[i].parent.as_deref().and_then(|p| index.get(p).copied());
                }
                WALKING => break true,
                ENDS => break false,
                _ => break true,
            }
        };
        for c in chain {
            fate[c] = if endless { ENDLESS } else { ENDS };
        }
    }
    let mut problems = Vec::new();
    for (i, group) in groups.iter().enumerate() {
        if index.get(group.id.as_str()) != Some(&i) {
            problems.push(problem(format!("groups[{i}].id"), format!("duplicate group id `{}`", group.id)));
        }
        let Some(parent) = &group.parent else { continue };
        match index.get(parent.as_str()).map(|&p| &groups[p]) {
            None => problems.push(problem(format!("groups[{i}].parent"), format!("unknown group `{parent}`"))),
            Some(p) if p.kind != group.kind => {
                problems.push(problem(format!("groups[{i}].parent"), format!("`{parent}` is a group of another kind")))
            }
            Some(_) if fate[i] == ENDLESS => problems.push(problem(format!("groups[{i}].parent"), "groups form a cycle")),
            Some(_) => {}
        }
    }
    problems
}
