//! Scenario files (`scenario.md`): one organisation's state and a list of
//! events, read into the contract's types.
//!
//! Reading is strict: an unknown field, an unknown event kind, a bad instant
//! or a reference to a user or group nobody has is an error that names its
//! JSON path and line and column. Defaults come from
//! `turnstile_policy::model` (`Settings::default`, `User::new`), so the
//! scenario reader never restates a rule.

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer};
use serde::Deserialize;
use turnstile_policy::calendar::parse_rfc3339;
use turnstile_policy::model::{
    AccountState, ActivityEvent, AppToggleEvent, AppToggles, CallEvent, Channel, CountryFilter, CreateUserEvent,
    Direction, Event, EventKind, FeatureSet, Features, Group, GroupAction, GroupKind, Instant, LicenseEvent,
    LicenseType, Licenses, Named, OrgState, PasswordEvent, Plan, Problem, SaveFeaturesEvent, Selector, Settings,
    SmsEvent, SyncEvent, User, UserAction, POSITION_GROUP,
};

use crate::error::{Error, Result};

/// A scenario, read and checked: the state to load and the events to feed.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Where it came from, for error messages.
    pub source: String,
    pub state: OrgState,
    pub events: Vec<Event>,
}

impl Scenario {
    /// An error for problems the engine found in the state, located in the
    /// scenario's terms (`org.plan`, `users[2].standard`).
    pub fn state_error(&self, problems: &[Problem]) -> Error {
        let lines: Vec<String> = problems
            .iter()
            .map(|p| {
                let field = match p.field.strip_prefix("settings") {
                    Some(rest) => format!("org{rest}"),
                    None => p.field.clone(),
                };
                format!("{field}: {}", p.message)
            })
            .collect();
        Error::input(&self.source, format!("inconsistent state:\n  {}", lines.join("\n  ")))
    }
}

/// Reads a scenario from JSON text; `source` names it in errors.
pub fn parse(text: &str, source: &str) -> Result<Scenario> {
    let mut json = serde_json::Deserializer::from_str(text);
    let file: ScenarioFile = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let inner = e.inner();
        let place = format!("{source}:{}:{}", inner.line(), inner.column());
        let path = e.path().to_string();
        // serde_json appends "at line L column C"; the place already says it.
        let message = inner.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_string();
        if path == "." { Error::input(place, message) } else { Error::input(place, format!("{path}: {message}")) }
    })?;
    let scenario = Scenario {
        source: source.to_string(),
        state: OrgState {
            settings: file.org.into_settings(),
            users: file.users.into_iter().map(UserFile::into_user).collect(),
            groups: file.groups.into_iter().map(GroupFile::into_group).collect(),
            sessions: Vec::new(),
        },
        events: file.events.into_iter().map(EventFile::into_event).collect(),
    };
    check_references(&scenario)?;
    Ok(scenario)
}

/// Every user and group an event names must exist by then: in `users`, or
/// created by an earlier `create_user`; in `groups`, or the Position group.
fn check_references(scenario: &Scenario) -> Result<()> {
    let mut users: HashSet<&str> = scenario.state.users.iter().map(|u| u.id.as_str()).collect();
    let mut groups: HashSet<&str> = scenario.state.groups.iter().map(|g| g.id.as_str()).collect();
    groups.insert(POSITION_GROUP);
    for (i, event) in scenario.events.iter().enumerate() {
        let at = |field: &str| format!("{}: events[{i}].{field}", scenario.source);
        for (field, id) in event.kind.users() {
            if !users.contains(id) {
                return Err(Error::input(at(field), format!("unknown user `{id}`")));
            }
        }
        match &event.kind {
            EventKind::CreateUser(e) => {
                users.insert(&e.user.id);
            }
            EventKind::DeleteGroup(e) if !groups.contains(e.group.as_str()) => {
                return Err(Error::input(at("group"), format!("unknown group `{}`", e.group)));
            }
            _ => {}
        }
    }
    Ok(())
}

// ------------------------------------------------------------ the file format
//
// Every field but ids is optional; `None` keeps the model's default.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    #[serde(default)]
    org: OrgFile,
    #[serde(default)]
    users: Vec<UserFile>,
    #[serde(default)]
    groups: Vec<GroupFile>,
    #[serde(default)]
    events: Vec<EventFile>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrgFile {
    trial: Option<bool>,
    licenses: Option<LicensesFile>,
    inspections_enabled: Option<bool>,
    auto_assign: Option<bool>,
    auto_free: Option<bool>,
    temporary_days: Option<u32>,
    inactive_days: Option<u32>,
    max_active_users: Option<u32>,
    idle_logout_minutes: Option<u32>,
    plan: Option<String>,
    /// Plans of the organisation's own: added to the defaults, replacing a
    /// default plan of the same name.
    plans: Option<Vec<PlanFile>>,
    home_country_code: Option<String>,
    billing_day: Option<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LicensesFile {
    standard: Option<u32>,
    inspections: Option<u32>,
    external: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    name: String,
    #[serde(default)]
    feature_sets: Vec<N<FeatureSet>>,
    #[serde(default)]
    country_filter: bool,
    #[serde(default)]
    recording: bool,
}

impl OrgFile {
    pub(crate) fn into_settings(self) -> Settings {
        let mut s = Settings::default();
        set(&mut s.trial, self.trial);
        if let Some(l) = self.licenses {
            let Licenses { standard, inspections, external } = &mut s.licenses;
            set(standard, l.standard);
            set(inspections, l.inspections);
            set(external, l.external);
        }
        set(&mut s.inspections_enabled, self.inspections_enabled);
        set(&mut s.auto_assign, self.auto_assign);
        set(&mut s.auto_free, self.auto_free);
        set(&mut s.temporary_days, self.temporary_days);
        set(&mut s.inactive_days, self.inactive_days);
        set(&mut s.max_active_users, self.max_active_users);
        set(&mut s.idle_logout_minutes, self.idle_logout_minutes);
        set(&mut s.plan, self.plan);
        for plan in self.plans.unwrap_or_default() {
            let plan = Plan {
                name: plan.name,
                feature_sets: plan.feature_sets.into_iter().map(|N(f)| f).collect(),
                country_filter: plan.country_filter,
                recording: plan.recording,
            };
            match s.plans.iter_mut().find(|p| p.name == plan.name) {
                Some(existing) => *existing = plan,
                None => s.plans.push(plan),
            }
        }
        set(&mut s.home_country_code, self.home_country_code);
        set(&mut s.billing_day, self.billing_day);
        s
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    id: String,
    name: Option<String>,
    email: Option<String>,
    external: Option<bool>,
    standard: Option<N<Selector>>,
    inspections: Option<N<Selector>>,
    temporary_since: Option<At>,
    last_sync: Option<At>,
    assigned_at: Option<At>,
    account: Option<N<AccountState>>,
    has_password: Option<bool>,
    main_admin: Option<bool>,
    permission_group: Option<String>,
    groups: Option<Vec<String>>,
    sip: Option<String>,
    features: Option<FeaturesFile>,
    app: Option<AppFile>,
}

impl UserFile {
    fn into_user(self) -> User {
        let mut u = User::new(self.id);
        set(&mut u.name, self.name);
        set(&mut u.email, self.email);
        set(&mut u.external, self.external);
        set(&mut u.standard, self.standard.map(|N(s)| s));
        set(&mut u.inspections, self.inspections.map(|N(s)| s));
        u.temporary_since = self.temporary_since.map(|At(t)| t);
        u.last_sync = self.last_sync.map(|At(t)| t);
        u.assigned_at = self.assigned_at.map(|At(t)| t);
        set(&mut u.account, self.account.map(|N(s)| s));
        set(&mut u.has_password, self.has_password);
        set(&mut u.main_admin, self.main_admin);
        u.permission_group = self.permission_group;
        set(&mut u.groups, self.groups);
        u.sip = self.sip;
        if let Some(f) = self.features {
            u.features = f.into_features();
        }
        if let Some(a) = self.app {
            let AppToggles { recording, crm_overlay } = &mut u.app;
            set(recording, a.recording);
            set(crm_overlay, a.crm_overlay);
        }
        u
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeaturesFile {
    feature_set: Option<N<FeatureSet>>,
    recording: Option<bool>,
    crm_overlay: Option<bool>,
    country_filter: Option<CountryFilterFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountryFilterFile {
    enabled: Option<bool>,
    allowed: Option<Vec<String>>,
}

impl FeaturesFile {
    /// Absent fields take their defaults: a `save_features` saves the whole form.
    fn into_features(self) -> Features {
        let mut f = Features::default();
        set(&mut f.feature_set, self.feature_set.map(|N(s)| s));
        set(&mut f.recording, self.recording);
        set(&mut f.crm_overlay, self.crm_overlay);
        if let Some(c) = self.country_filter {
            let CountryFilter { enabled, allowed } = &mut f.country_filter;
            set(enabled, c.enabled);
            set(allowed, c.allowed);
        }
        f
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppFile {
    recording: Option<bool>,
    crm_overlay: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    id: String,
    kind: N<GroupKind>,
    parent: Option<String>,
    #[serde(default)]
    permissions: Vec<String>,
}

impl GroupFile {
    fn into_group(self) -> Group {
        Group { id: self.id, kind: self.kind.0, parent: self.parent, permissions: self.permissions }
    }
}

/// One event: `at`, `kind` and the kind's fields (scenario.md).
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum EventFile {
    Sync { at: At, user: String, channel: Option<N<Channel>> },
    Assign { at: At, user: String, license: N<LicenseType> },
    Unassign { at: At, user: String, license: N<LicenseType> },
    Disable { at: At, user: String, license: N<LicenseType> },
    Activate { at: At, user: String },
    Deactivate { at: At, user: String },
    Login { at: At, user: String },
    Logout { at: At, user: String },
    Activity { at: At, user: String, tab_open: bool },
    CloseSession { at: At, user: String },
    SetPassword { at: At, user: String, password: String, confirm: String },
    CreateUser { at: At, actor: String, user: UserFile },
    BlockUser { at: At, actor: String, user: String },
    UnblockUser { at: At, actor: String, user: String },
    DeleteUser { at: At, actor: String, user: String },
    DeleteGroup { at: At, actor: String, group: String },
    SaveFeatures { at: At, user: String, features: FeaturesFile },
    SetAppToggle { at: At, user: String, recording: Option<bool>, crm_overlay: Option<bool> },
    SetPlan { at: At, plan: String },
    Call { at: At, user: String, to: String, direction: Option<N<Direction>> },
    Sms { at: At, user: String, to: String },
}

impl EventFile {
    fn into_event(self) -> Event {
        use EventFile as F;
        use EventKind as K;
        let license = |user, license: N<LicenseType>| LicenseEvent { user, license: license.0 };
        let action = |actor, user| UserAction { actor, user };
        let (At(at), kind) = match self {
            F::Sync { at, user, channel } => {
                (at, K::Sync(SyncEvent { user, channel: channel.map_or(Channel::Mobile, |N(c)| c) }))
            }
            F::Assign { at, user, license: l } => (at, K::Assign(license(user, l))),
            F::Unassign { at, user, license: l } => (at, K::Unassign(license(user, l))),
            F::Disable { at, user, license: l } => (at, K::Disable(license(user, l))),
            F::Activate { at, user } => (at, K::Activate(user)),
            F::Deactivate { at, user } => (at, K::Deactivate(user)),
            F::Login { at, user } => (at, K::Login(user)),
            F::Logout { at, user } => (at, K::Logout(user)),
            F::Activity { at, user, tab_open } => (at, K::Activity(ActivityEvent { user, tab_open })),
            F::CloseSession { at, user } => (at, K::CloseSession(user)),
            F::SetPassword { at, user, password, confirm } => {
                (at, K::SetPassword(PasswordEvent { user, password, confirm }))
            }
            F::CreateUser { at, actor, user } => (at, K::CreateUser(CreateUserEvent { actor, user: user.into_user() })),
            F::BlockUser { at, actor, user } => (at, K::BlockUser(action(actor, user))),
            F::UnblockUser { at, actor, user } => (at, K::UnblockUser(action(actor, user))),
            F::DeleteUser { at, actor, user } => (at, K::DeleteUser(action(actor, user))),
            F::DeleteGroup { at, actor, group } => (at, K::DeleteGroup(GroupAction { actor, group })),
            F::SaveFeatures { at, user, features } => {
                (at, K::SaveFeatures(SaveFeaturesEvent { user, features: features.into_features() }))
            }
            F::SetAppToggle { at, user, recording, crm_overlay } => {
                (at, K::SetAppToggle(AppToggleEvent { user, recording, crm_overlay }))
            }
            F::SetPlan { at, plan } => (at, K::SetPlan(plan)),
            F::Call { at, user, to, direction } => {
                let direction = direction.map_or(Direction::Outbound, |N(d)| d);
                (at, K::Call(CallEvent { user, to, direction }))
            }
            F::Sms { at, user, to } => (at, K::Sms(SmsEvent { user, to })),
        };
        Event { at, kind }
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

/// An RFC 3339 instant in the file.
pub(crate) struct At(pub(crate) Instant);

impl<'de> Deserialize<'de> for At {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<At, D::Error> {
        let text = String::deserialize(d)?;
        parse_rfc3339(&text).map(At).map_err(de::Error::custom)
    }
}

/// One of an enum's spelled values (`"assigned"`, `"outbound"`, ...).
pub(crate) struct N<T>(pub(crate) T);

impl<'de, T: Named> Deserialize<'de> for N<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<N<T>, D::Error> {
        struct Visit<T>(PhantomData<T>);
        impl<T: Named> de::Visitor<'_> for Visit<T> {
            type Value = N<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                let names: Vec<&str> = T::ALL.iter().map(|v| v.name()).collect();
                write!(f, "one of {}", names.join(", "))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> std::result::Result<N<T>, E> {
                T::from_name(text).map(N).ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
            }
        }
        d.deserialize_str(Visit(PhantomData))
    }
}
