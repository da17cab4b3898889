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
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
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
        located(format!("{source}:{}:{}", inner.line(), inner.column()), &e.path().to_string(), inner)
    })?;
    let events = file
        .events
        .iter()
        .enumerate()
        .map(|(i, raw)| read_event(text, source, i, raw))
        .collect::<Result<Vec<Event>>>()?;
    let scenario = Scenario {
        source: source.to_string(),
        state: OrgState {
            settings: file.org.into_settings(),
            users: file.users.into_iter().map(UserFile::into_user).collect(),
            groups: file.groups.into_iter().map(GroupFile::into_group).collect(),
            sessions: Vec::new(),
        },
        events,
    };
    check_references(&scenario)?;
    Ok(scenario)
}

/// An error at `place` about the value at JSON `path`.
fn located(place: String, path: &str, error: &serde_json::Error) -> Error {
    // serde_json appends "at line L column C"; `place` already says where.
    let message = error.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message);
    if path.is_empty() || path == "." { Error::input(place, message) } else { Error::input(place, format!("{path}: {message}")) }
}

/// Reads event `index` from its raw JSON text inside `text`.
///
/// The kind is read first, then the event's fields into that kind's own
/// struct, so an error names its full path (`events[3].user.email`) and the
/// line and column where the event starts.
fn read_event(text: &str, source: &str, index: usize, raw: &RawValue) -> Result<Event> {
    // The event's line and column are worked out only for an error: counting
    // lines before every event would make reading quadratic.
    let error = |field: &str, message: String| {
        let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize).min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
        let path = if field.is_empty() { format!("events[{index}]") } else { format!("events[{index}].{field}") };
        Error::input(format!("{source}:{line}:{column}"), format!("{path}: {message}"))
    };

    let mut fields: Map<String, Value> = serde_json::from_str(raw.get())
        .map_err(|_| error("", "an event is an object with `at`, `kind` and the kind's fields".into()))?;
    let kind = match fields.remove("kind") {
        Some(Value::String(kind)) => kind,
        Some(_) => return Err(error("kind", "must be a string".into())),
        None => return Err(error("", "missing field `kind`".into())),
    };
    let at = match fields.remove("at") {
        Some(Value::String(at)) => parse_rfc3339(&at).map_err(|e| error("at", e))?,
        Some(_) => return Err(error("at", "must be an RFC 3339 string".into())),
        None => return Err(error("", "missing field `at`".into())),
    };
    fn read<T: DeserializeOwned>(fields: Map<String, Value>) -> std::result::Result<T, (String, String)> {
        serde_path_to_error::deserialize(Value::Object(fields)).map_err(|e| (e.path().to_string(), e.inner().to_string()))
    }
    let kind = match kind.as_str() {
        "sync" => read::<SyncFields>(fields).map(SyncFields::into_kind),
        "assign" => read::<LicenseFields>(fields).map(|f| EventKind::Assign(f.into_event())),
        "unassign" => read::<LicenseFields>(fields).map(|f| EventKind::Unassign(f.into_event())),
        "disable" => read::<LicenseFields>(fields).map(|f| EventKind::Disable(f.into_event())),
        "activate" => read::<UserFields>(fields).map(|f| EventKind::Activate(f.user)),
        "deactivate" => read::<UserFields>(fields).map(|f| EventKind::Deactivate(f.user)),
        "login" => read::<UserFields>(fields).map(|f| EventKind::Login(f.user)),
        "logout" => read::<UserFields>(fields).map(|f| EventKind::Logout(f.user)),
        "activity" => read::<ActivityFields>(fields).map(|f| EventKind::Activity(ActivityEvent { user: f.user, tab_open: f.tab_open })),
        "close_session" => read::<UserFields>(fields).map(|f| EventKind::CloseSession(f.user)),
        "set_password" => read::<PasswordFields>(fields)
            .map(|f| EventKind::SetPassword(PasswordEvent { user: f.user, password: f.password, confirm: f.confirm })),
        "create_user" => read::<CreateUserFields>(fields)
            .map(|f| EventKind::CreateUser(CreateUserEvent { actor: f.actor, user: f.user.into_user() })),
        "block_user" => read::<ActionFields>(fields).map(|f| EventKind::BlockUser(f.into_action())),
        "unblock_user" => read::<ActionFields>(fields).map(|f| EventKind::UnblockUser(f.into_action())),
        "delete_user" => read::<ActionFields>(fields).map(|f| EventKind::DeleteUser(f.into_action())),
        "delete_group" => read::<GroupFields>(fields)
            .map(|f| EventKind::DeleteGroup(GroupAction { actor: f.actor, group: f.group })),
        "save_features" => read::<SaveFeaturesFields>(fields).map(|f| {
            EventKind::SaveFeatures(SaveFeaturesEvent { user: f.user, features: f.features.into_features() })
        }),
        "set_app_toggle" => read::<AppToggleFields>(fields).map(|f| {
            EventKind::SetAppToggle(AppToggleEvent { user: f.user, recording: f.recording, crm_overlay: f.crm_overlay })
        }),
        "set_plan" => read::<PlanFields>(fields).map(|f| EventKind::SetPlan(f.plan)),
        "call" => read::<CallFields>(fields).map(CallFields::into_kind),
        "sms" => read::<SmsFields>(fields).map(|f| EventKind::Sms(SmsEvent { user: f.user, to: f.to })),
        other => return Err(error("kind", format!("unknown event kind `{other}`, expected one of {}", EVENT_KINDS.join(", ")))),
    };
    match kind {
        Ok(kind) => Ok(Event { at, kind }),
        Err((field, message)) => Err(error(if field == "." { "" } else { &field }, message)),
    }
}

/// The event kinds of scenario.md.
pub const EVENT_KINDS: &[&str] = &[
    "sync", "assign", "unassign", "disable", "activate", "deactivate", "login", "logout", "activity",
    "close_session", "set_password", "create_user", "block_user", "unblock_user", "delete_user",
    "delete_group", "save_features", "set_app_toggle", "set_plan", "call", "sms",
];

/// Reads the `org` object of a scenario on its own (`turnstile what-if
/// --org`, `turnstile check --org`); absent fields keep the defaults of
/// rules.md. `source` names the file in errors.
pub fn parse_org(text: &str, source: &str) -> Result<Settings> {
    let mut json = serde_json::Deserializer::from_str(text);
    let place = |line: usize, column: usize| format!("{source}:{line}:{column}");
    let org: OrgFile = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let inner = e.inner();
        let path = e.path().to_string();
        let message = inner.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_string();
        let place = place(inner.line(), inner.column());
        if path == "." { Error::input(place, message) } else { Error::input(place, format!("org.{path}: {message}")) }
    })?;
    json.end().map_err(|e| Error::input(place(e.line(), e.column()), "trailing characters after the org object"))?;
    Ok(org.into_settings())
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
struct ScenarioFile<'a> {
    /// What the scenario shows (conformance vectors name their rules here); not read.
    #[serde(default, rename = "about")]
    _about: Option<String>,
    #[serde(default)]
    org: OrgFile,
    #[serde(default)]
    users: Vec<UserFile>,
    #[serde(default)]
    groups: Vec<GroupFile>,
    /// Read one by one by [`read_event`], which knows each kind's fields.
    #[serde(default, borrow)]
    events: Vec<&'a RawValue>,
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
        if let Some(max) = self.max_active_users {
            s.max_active_users = Some(max);
        }
        set(&mut s.idle_logout_minutes, self.idle_logout_minutes);
        set(&mut s.plan, self.plan);
        let mut own: Vec<String> = Vec::new();
        for plan in self.plans.unwrap_or_default() {
            let plan = Plan {
                name: plan.name,
                feature_sets: plan.feature_sets.into_iter().map(|N(f)| f).collect(),
                country_filter: plan.country_filter,
                recording: plan.recording,
            };
            // A default plan of the same name is replaced; two of the
            // organisation's own with one name are both kept, so loading the
            // state reports the duplicate.
            let default = s.plans.iter().position(|p| p.name == plan.name && !own.contains(&p.name));
            own.push(plan.name.clone());
            match default {
                Some(i) => s.plans[i] = plan,
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

// Each event kind's fields, beside `at` and `kind` (scenario.md). These
// small structs, not the WIT records, so that unknown fields are refused.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncFields {
    user: String,
    channel: Option<N<Channel>>,
}

impl SyncFields {
    fn into_kind(self) -> EventKind {
        EventKind::Sync(SyncEvent { user: self.user, channel: self.channel.map_or(Channel::Mobile, |N(c)| c) })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LicenseFields {
    user: String,
    license: N<LicenseType>,
}

impl LicenseFields {
    fn into_event(self) -> LicenseEvent {
        LicenseEvent { user: self.user, license: self.license.0 }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFields {
    user: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivityFields {
    user: String,
    tab_open: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordFields {
    user: String,
    password: String,
    confirm: String,
}

/// `actor` blocks, unblocks or deletes `user`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionFields {
    actor: String,
    user: String,
}

impl ActionFields {
    fn into_action(self) -> UserAction {
        UserAction { actor: self.actor, user: self.user }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFields {
    actor: String,
    group: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppToggleFields {
    user: String,
    recording: Option<bool>,
    crm_overlay: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SmsFields {
    user: String,
    to: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUserFields {
    actor: String,
    user: UserFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaveFeaturesFields {
    user: String,
    features: FeaturesFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFields {
    plan: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallFields {
    user: String,
    to: String,
    direction: Option<N<Direction>>,
}

impl CallFields {
    fn into_kind(self) -> EventKind {
        let direction = self.direction.map_or(Direction::Outbound, |N(d)| d);
        EventKind::Call(CallEvent { user: self.user, to: self.to, direction })
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
