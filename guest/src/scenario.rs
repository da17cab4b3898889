//! Scenario files (`docs/scenario.md`): one organisation's state and a list
//! of events, read into the contract's types, and decisions written back as
//! JSON lines. Every host reads and writes the format through this module
//! (the component's `scenario` interface), so they agree byte for byte.
//!
//! Reading is strict: an unknown field, a duplicate key, a value of the
//! wrong type, a bad instant, an unknown event kind, or an event naming a
//! user or group nobody has is an error naming its place (line and
//! character column) and its path (`events[3].user.email`). `null` counts
//! as absent. Defaults come from the model (`Settings::default`,
//! `User::new`), so the reader never restates a rule. A state that doesn't
//! load is refused with every problem, each located in the file.

use crate::calendar::{format_rfc3339, parse_rfc3339};
use crate::json::{self, Kind, Member, ObjectWriter, Value, write_list, write_str};
use crate::model::{
    AccountState, ActivityEvent, AppToggleEvent, AppToggles, CallEvent, Channel, CountryFilter, CreateGroupEvent,
    CreateUserEvent, Decision, Diagnostic, Direction, EditGroupEvent, EditUserEvent, Effect, EffectiveConfig, Event,
    EventKind, FeatureSet, Features, Group, GroupAction, GroupKind, Instant, LicenseEvent, LicenseType, Named, OrgState,
    PasswordEvent, Plan, Problem, Remedy, SaveFeaturesEvent, Selector, Session, Settings, SettingsChange, Severity, SmsEvent,
    SyncEvent, User, UserAction, UserDetails, FIRST_INSTANT, LAST_INSTANT, POSITION_GROUP,
};
use crate::state::State;

pub use crate::model::Scenario;

// ------------------------------------------------------------------ places

/// Where a value is, as a path from the top of the file, built only when an
/// error needs it.
#[derive(Clone, Copy)]
enum Path<'p> {
    Root,
    Field(&'p Path<'p>, &'p str),
    Item(&'p Path<'p>, usize),
}

impl<'p> Path<'p> {
    fn field<'q>(&'q self, name: &'q str) -> Path<'q> {
        Path::Field(self, name)
    }

    fn item<'q>(&'q self, i: usize) -> Path<'q> {
        Path::Item(self, i)
    }

    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Field(parent, name) => {
                let parent = parent.render();
                if parent.is_empty() { name.to_string() } else { format!("{parent}.{name}") }
            }
            Path::Item(parent, i) => format!("{}[{i}]", parent.render()),
        }
    }
}

/// A reading error: the byte offset it is at, the path, the message.
#[derive(Debug)]
struct Bad {
    at: usize,
    path: String,
    message: String,
}

type R<T> = Result<T, Bad>;

fn bad(value: &Value, path: &Path, message: impl Into<String>) -> Bad {
    Bad { at: value.at, path: path.render(), message: message.into() }
}

/// A diagnostic at byte offset `at` of `text`.
fn diagnostic(text: &str, source: &str, at: usize, path: String, message: String) -> Diagnostic {
    let (line, column) = json::position(text, at);
    Diagnostic { source: source.to_string(), line, column, path, severity: Severity::Error, message }
}

// ------------------------------------------------------------------ values

/// How serde names a value it didn't expect: kept so messages read the same
/// as they always have (`invalid type: string "soon", expected u32`).
fn found(v: &Value) -> String {
    match &v.kind {
        Kind::Null => "null".into(),
        Kind::Bool(b) => format!("boolean `{b}`"),
        Kind::Number(n) if n.contains(['.', 'e', 'E']) => format!("floating point `{n}`"),
        Kind::Number(n) => format!("integer `{n}`"),
        Kind::String(s) => format!("string {s:?}"),
        Kind::Array(_) => "sequence".into(),
        Kind::Object(_) => "map".into(),
    }
}

fn invalid_type(v: &Value, path: &Path, expected: &str) -> Bad {
    bad(v, path, format!("invalid type: {}, expected {expected}", found(v)))
}

fn string<'a>(v: &Value<'a>, path: &Path) -> R<String> {
    match &v.kind {
        Kind::String(s) => Ok(s.to_string()),
        _ => Err(invalid_type(v, path, "a string")),
    }
}

fn boolean(v: &Value, path: &Path) -> R<bool> {
    match v.kind {
        Kind::Bool(b) => Ok(b),
        _ => Err(invalid_type(v, path, "a boolean")),
    }
}

/// An unsigned integer of at most `max`; `name` is the type serde would say.
fn unsigned(v: &Value, path: &Path, max: u64, name: &str) -> R<u64> {
    let Kind::Number(n) = v.kind else { return Err(invalid_type(v, path, name)) };
    if n.contains(['.', 'e', 'E']) {
        return Err(invalid_type(v, path, name));
    }
    match n.parse::<u64>() {
        Ok(x) if x <= max => Ok(x),
        _ => Err(bad(v, path, format!("invalid value: integer `{n}`, expected {name}"))),
    }
}

fn u32_value(v: &Value, path: &Path) -> R<u32> {
    unsigned(v, path, u64::from(u32::MAX), "u32").map(|x| x as u32)
}

fn u8_value(v: &Value, path: &Path) -> R<u8> {
    unsigned(v, path, u64::from(u8::MAX), "u8").map(|x| x as u8)
}

/// An RFC 3339 instant within the years the engine takes (O1: 1970 to 9999).
fn instant(v: &Value, path: &Path) -> R<Instant> {
    let text = string(v, path)?;
    let at = parse_rfc3339(&text).map_err(|e| bad(v, path, e))?;
    if !(FIRST_INSTANT..=LAST_INSTANT).contains(&at) {
        return Err(bad(v, path, format!("`{text}` is before 1970: instants are within the years 1970 to 9999")));
    }
    Ok(at)
}

/// One of an enum's spelled values (`"assigned"`, `"outbound"`, ...).
fn named<T: Named>(v: &Value, path: &Path) -> R<T> {
    let names = || T::ALL.iter().map(|x| x.name()).collect::<Vec<_>>().join(", ");
    match &v.kind {
        Kind::String(s) => T::from_name(s)
            .ok_or_else(|| bad(v, path, format!("invalid value: string {s:?}, expected one of {}", names()))),
        _ => Err(invalid_type(v, path, &format!("one of {}", names()))),
    }
}

fn list<'v, 'a, T>(v: &'v Value<'a>, path: &Path, mut item: impl FnMut(&'v Value<'a>, &Path) -> R<T>) -> R<Vec<T>> {
    match &v.kind {
        Kind::Array(items) => items.iter().enumerate().map(|(i, x)| item(x, &path.item(i))).collect(),
        _ => Err(invalid_type(v, path, "a sequence")),
    }
}

fn strings(v: &Value, path: &Path) -> R<Vec<String>> {
    list(v, path, string)
}

/// An object whose members must be among `fields`; `null` members count as absent.
struct Obj<'v, 'a> {
    value: &'v Value<'a>,
    members: &'v [Member<'a>],
}

impl<'v, 'a> Obj<'v, 'a> {
    fn new(value: &'v Value<'a>, path: &Path, fields: &[&str]) -> R<Obj<'v, 'a>> {
        let Kind::Object(members) = &value.kind else { return Err(invalid_type(value, path, "an object")) };
        if let Some(m) = members.iter().find(|m| !fields.contains(&&*m.key)) {
            let expected = fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ");
            return Err(Bad {
                at: m.at,
                path: path.field(&m.key).render(),
                message: format!("unknown field `{}`, expected one of {expected}", m.key),
            });
        }
        Ok(Obj { value, members })
    }

    fn get(&self, name: &str) -> Option<&'v Value<'a>> {
        self.members.iter().find(|m| m.key == name).map(|m| &m.value).filter(|v| v.kind != Kind::Null)
    }

    fn required(&self, name: &str, path: &Path) -> R<&'v Value<'a>> {
        self.get(name).ok_or_else(|| bad(self.value, path, format!("missing field `{name}`")))
    }

    /// Reads member `name` with `read` when present.
    fn opt<T>(&self, name: &str, path: &Path, read: impl Fn(&'v Value<'a>, &Path) -> R<T>) -> R<Option<T>> {
        self.get(name).map(|v| read(v, &path.field(name))).transpose()
    }

    /// Reads member `name` into `slot` when present.
    fn set<T>(&self, slot: &mut T, name: &str, path: &Path, read: impl Fn(&'v Value<'a>, &Path) -> R<T>) -> R<()> {
        if let Some(x) = self.opt(name, path, read)? {
            *slot = x;
        }
        Ok(())
    }

    fn req<T>(&self, name: &str, path: &Path, read: impl Fn(&'v Value<'a>, &Path) -> R<T>) -> R<T> {
        read(self.required(name, path)?, &path.field(name))
    }
}

// ------------------------------------------------------------------ the state

const ORG_FIELDS: &[&str] = &[
    "trial",
    "licenses",
    "inspections_enabled",
    "auto_assign",
    "auto_free",
    "temporary_days",
    "inactive_days",
    "max_active_users",
    "idle_logout_minutes",
    "plan",
    "plans",
    "home_country_code",
    "billing_day",
];

/// The `org` object: absent fields keep the defaults of rules.md. Plans of
/// the organisation's own are added to the defaults, replacing a default
/// plan of the same name; two of its own with one name are both kept, so
/// loading the state reports the duplicate.
fn org(v: &Value, path: &Path) -> R<Settings> {
    let o = Obj::new(v, path, ORG_FIELDS)?;
    let mut s = Settings::default();
    o.set(&mut s.trial, "trial", path, boolean)?;
    if let Some(l) = o.get("licenses") {
        let path = path.field("licenses");
        let l = Obj::new(l, &path, &["standard", "inspections", "external"])?;
        l.set(&mut s.licenses.standard, "standard", &path, u32_value)?;
        l.set(&mut s.licenses.inspections, "inspections", &path, u32_value)?;
        l.set(&mut s.licenses.external, "external", &path, boolean)?;
    }
    o.set(&mut s.inspections_enabled, "inspections_enabled", path, boolean)?;
    o.set(&mut s.auto_assign, "auto_assign", path, boolean)?;
    o.set(&mut s.auto_free, "auto_free", path, boolean)?;
    o.set(&mut s.temporary_days, "temporary_days", path, u32_value)?;
    o.set(&mut s.inactive_days, "inactive_days", path, u32_value)?;
    if let Some(max) = o.opt("max_active_users", path, u32_value)? {
        s.max_active_users = Some(max);
    }
    o.set(&mut s.idle_logout_minutes, "idle_logout_minutes", path, u32_value)?;
    o.set(&mut s.plan, "plan", path, string)?;
    if let Some(plans) = o.opt("plans", path, |v, p| list(v, p, plan))? {
        // A plan named like a default replaces it (the first one so named
        // does; any later one is a duplicate that loading reports).
        let mut defaults: std::collections::HashMap<String, Option<usize>, rustc_hash::FxBuildHasher> =
            s.plans.iter().enumerate().map(|(i, p)| (p.name.clone(), Some(i))).collect();
        for plan in plans {
            match defaults.get_mut(&plan.name).and_then(Option::take) {
                Some(i) => s.plans[i] = plan,
                None => s.plans.push(plan),
            }
        }
    }
    o.set(&mut s.home_country_code, "home_country_code", path, string)?;
    o.set(&mut s.billing_day, "billing_day", path, u8_value)?;
    Ok(s)
}

fn plan(v: &Value, path: &Path) -> R<Plan> {
    let o = Obj::new(v, path, &["name", "feature_sets", "country_filter", "recording"])?;
    Ok(Plan {
        name: o.req("name", path, string)?,
        feature_sets: o.opt("feature_sets", path, |v, p| list(v, p, named))?.unwrap_or_default(),
        country_filter: o.opt("country_filter", path, boolean)?.unwrap_or(false),
        recording: o.opt("recording", path, boolean)?.unwrap_or(false),
    })
}

const USER_FIELDS: &[&str] = &[
    "id",
    "name",
    "email",
    "external",
    "standard",
    "inspections",
    "temporary_since",
    "last_sync",
    "assigned_at",
    "account",
    "has_password",
    "main_admin",
    "permission_group",
    "groups",
    "sip",
    "features",
    "app",
    "business_number",
    "call_presentation",
    "sms_presentation",
];

/// A user object: every field but `id` has a default (`User::new`).
fn user(v: &Value, path: &Path) -> R<User> {
    let o = Obj::new(v, path, USER_FIELDS)?;
    let mut u = User::new(o.req("id", path, string)?);
    o.set(&mut u.name, "name", path, string)?;
    o.set(&mut u.email, "email", path, string)?;
    o.set(&mut u.external, "external", path, boolean)?;
    o.set(&mut u.standard, "standard", path, named::<Selector>)?;
    o.set(&mut u.inspections, "inspections", path, named::<Selector>)?;
    u.temporary_since = o.opt("temporary_since", path, instant)?;
    u.last_sync = o.opt("last_sync", path, instant)?;
    u.assigned_at = o.opt("assigned_at", path, instant)?;
    o.set(&mut u.account, "account", path, named::<AccountState>)?;
    o.set(&mut u.has_password, "has_password", path, boolean)?;
    o.set(&mut u.main_admin, "main_admin", path, boolean)?;
    u.permission_group = o.opt("permission_group", path, string)?;
    o.set(&mut u.groups, "groups", path, strings)?;
    u.sip = o.opt("sip", path, string)?;
    if let Some(f) = o.opt("features", path, features)? {
        u.features = f;
    }
    if let Some(a) = o.get("app") {
        let path = path.field("app");
        let a = Obj::new(a, &path, &["recording", "crm_overlay"])?;
        let AppToggles { recording, crm_overlay } = &mut u.app;
        a.set(recording, "recording", &path, boolean)?;
        a.set(crm_overlay, "crm_overlay", &path, boolean)?;
    }
    u.business_number = o.opt("business_number", path, string)?;
    u.call_presentation = o.opt("call_presentation", path, string)?;
    u.sms_presentation = o.opt("sms_presentation", path, string)?;
    Ok(u)
}

/// A features object: absent fields take their defaults (a `save_features`
/// saves the whole form).
fn features(v: &Value, path: &Path) -> R<Features> {
    let o = Obj::new(v, path, &["feature_set", "recording", "crm_overlay", "country_filter"])?;
    let mut f = Features::default();
    o.set(&mut f.feature_set, "feature_set", path, named::<FeatureSet>)?;
    o.set(&mut f.recording, "recording", path, boolean)?;
    o.set(&mut f.crm_overlay, "crm_overlay", path, boolean)?;
    if let Some(c) = o.get("country_filter") {
        let path = path.field("country_filter");
        let c = Obj::new(c, &path, &["enabled", "allowed"])?;
        let CountryFilter { enabled, allowed } = &mut f.country_filter;
        c.set(enabled, "enabled", &path, boolean)?;
        c.set(allowed, "allowed", &path, strings)?;
    }
    Ok(f)
}

fn group(v: &Value, path: &Path) -> R<Group> {
    let o = Obj::new(v, path, &["id", "kind", "name", "parent", "permissions"])?;
    Ok(Group {
        id: o.req("id", path, string)?,
        kind: o.req("kind", path, named::<GroupKind>)?,
        name: o.opt("name", path, string)?,
        parent: o.opt("parent", path, string)?,
        permissions: o.opt("permissions", path, strings)?.unwrap_or_default(),
    })
}

fn session(v: &Value, path: &Path) -> R<Session> {
    let o = Obj::new(v, path, &["user", "login_at", "last_activity", "tab_open"])?;
    Ok(Session {
        user: o.req("user", path, string)?,
        login_at: o.req("login_at", path, instant)?,
        last_activity: o.req("last_activity", path, instant)?,
        tab_open: o.req("tab_open", path, boolean)?,
    })
}

// ------------------------------------------------------------------ events

/// The event kinds of the scenario format.
pub const EVENT_KINDS: &[&str] = &[
    "sync",
    "assign",
    "unassign",
    "disable",
    "activate",
    "deactivate",
    "login",
    "logout",
    "activity",
    "close_session",
    "set_password",
    "create_user",
    "block_user",
    "unblock_user",
    "delete_user",
    "delete_group",
    "save_features",
    "set_app_toggle",
    "set_plan",
    "call",
    "sms",
    "remove_mobile_user",
    "edit_user",
    "create_group",
    "edit_group",
    "set_settings",
];

/// The fields of a `set_settings` event besides `at` and `kind`: the
/// settings O1 changes, spelled as in `org`.
const SETTINGS_FIELDS: &[&str] = &[
    "trial",
    "licenses",
    "inspections_enabled",
    "auto_assign",
    "auto_free",
    "temporary_days",
    "inactive_days",
    "max_active_users",
    "idle_logout_minutes",
    "home_country_code",
    "billing_day",
];

/// The fields of an `edit_user` event besides `at`, `kind`, `actor` and `user`.
const EDIT_USER_FIELDS: &[&str] = &[
    "name",
    "email",
    "sip",
    "business_number",
    "call_presentation",
    "sms_presentation",
    "permission_group",
    "groups",
];

/// Reads one event: `at`, `kind` and that kind's own fields.
fn event(v: &Value, path: &Path) -> R<Event> {
    let Kind::Object(members) = &v.kind else {
        return Err(bad(v, path, "an event is an object with `at`, `kind` and the kind's fields"));
    };
    let member = |name: &str| members.iter().find(|m| m.key == name).map(|m| &m.value).filter(|v| v.kind != Kind::Null);
    let kind = match member("kind") {
        Some(Value { kind: Kind::String(k), .. }) => k.as_ref(),
        Some(other) => return Err(bad(other, &path.field("kind"), "must be a string")),
        None => return Err(bad(v, path, "missing field `kind`")),
    };
    let at = match member("at") {
        Some(at) => instant(at, &path.field("at"))?,
        None => return Err(bad(v, path, "missing field `at`")),
    };
    // The kind's fields, beside `at` and `kind`.
    let fields = |names: &[&str]| -> R<Obj> {
        let mut all = vec!["at", "kind"];
        all.extend_from_slice(names);
        Obj::new(v, path, &all)
    };
    let user = |o: &Obj| o.req("user", path, string);
    let license_event = |o: &Obj| -> R<LicenseEvent> {
        Ok(LicenseEvent { user: user(o)?, license: o.req("license", path, named::<LicenseType>)? })
    };
    let action = |o: &Obj| -> R<UserAction> { Ok(UserAction { actor: o.req("actor", path, string)?, user: user(o)? }) };
    let kind = match kind {
        "sync" => {
            let o = fields(&["user", "channel"])?;
            let channel = o.opt("channel", path, named::<Channel>)?.unwrap_or(Channel::Mobile);
            EventKind::Sync(SyncEvent { user: user(&o)?, channel })
        }
        "assign" => EventKind::Assign(license_event(&fields(&["user", "license"])?)?),
        "unassign" => EventKind::Unassign(license_event(&fields(&["user", "license"])?)?),
        "disable" => EventKind::Disable(license_event(&fields(&["user", "license"])?)?),
        "activate" => EventKind::Activate(user(&fields(&["user"])?)?),
        "deactivate" => EventKind::Deactivate(user(&fields(&["user"])?)?),
        "login" => EventKind::Login(user(&fields(&["user"])?)?),
        "logout" => EventKind::Logout(user(&fields(&["user"])?)?),
        "close_session" => EventKind::CloseSession(user(&fields(&["user"])?)?),
        "activity" => {
            let o = fields(&["user", "tab_open"])?;
            EventKind::Activity(ActivityEvent { user: user(&o)?, tab_open: o.req("tab_open", path, boolean)? })
        }
        "set_password" => {
            let o = fields(&["user", "password", "confirm"])?;
            EventKind::SetPassword(PasswordEvent {
                user: user(&o)?,
                password: o.req("password", path, string)?,
                confirm: o.req("confirm", path, string)?,
            })
        }
        "create_user" => {
            let o = fields(&["actor", "user", "password", "confirm"])?;
            let password = o.opt("password", path, string)?;
            let confirm = o.opt("confirm", path, string)?;
            // The panel asks for the password twice: both or neither.
            match (&password, &confirm) {
                (Some(_), None) => return Err(bad(v, path, "`password` without `confirm`: the panel asks for it twice")),
                (None, Some(_)) => return Err(bad(v, path, "`confirm` without `password`")),
                _ => {}
            }
            EventKind::CreateUser(CreateUserEvent {
                actor: o.req("actor", path, string)?,
                user: o.req("user", path, user_object)?,
                password,
                confirm,
            })
        }
        "edit_user" => {
            let mut names = vec!["actor", "user"];
            names.extend_from_slice(EDIT_USER_FIELDS);
            let o = fields(&names)?;
            EventKind::EditUser(EditUserEvent {
                actor: o.req("actor", path, string)?,
                user: user(&o)?,
                name: o.opt("name", path, string)?,
                email: o.opt("email", path, string)?,
                sip: o.opt("sip", path, string)?,
                business_number: o.opt("business_number", path, string)?,
                call_presentation: o.opt("call_presentation", path, string)?,
                sms_presentation: o.opt("sms_presentation", path, string)?,
                permission_group: o.opt("permission_group", path, string)?,
                groups: o.opt("groups", path, strings)?,
            })
        }
        "create_group" => {
            let o = fields(&["actor", "group", "members"])?;
            EventKind::CreateGroup(CreateGroupEvent {
                actor: o.req("actor", path, string)?,
                group: o.req("group", path, group)?,
                members: o.opt("members", path, strings)?.unwrap_or_default(),
            })
        }
        "edit_group" => {
            let o = fields(&["actor", "group"])?;
            let gpath = path.field("group");
            let g = Obj::new(o.required("group", path)?, &gpath, &["id", "name", "parent", "permissions"])?;
            EventKind::EditGroup(EditGroupEvent {
                actor: o.req("actor", path, string)?,
                group: g.req("id", &gpath, string)?,
                name: g.opt("name", &gpath, string)?,
                parent: g.opt("parent", &gpath, string)?,
                permissions: g.opt("permissions", &gpath, strings)?,
            })
        }
        "remove_mobile_user" => EventKind::RemoveMobileUser(user(&fields(&["user"])?)?),
        "set_settings" => {
            let mut names = vec!["at", "kind"];
            names.extend_from_slice(SETTINGS_FIELDS);
            let o = Obj::new(v, path, &names)?;
            EventKind::SetSettings(settings_change(&o, path)?)
        }
        "block_user" => EventKind::BlockUser(action(&fields(&["actor", "user"])?)?),
        "unblock_user" => EventKind::UnblockUser(action(&fields(&["actor", "user"])?)?),
        "delete_user" => EventKind::DeleteUser(action(&fields(&["actor", "user"])?)?),
        "delete_group" => {
            let o = fields(&["actor", "group"])?;
            EventKind::DeleteGroup(GroupAction {
                actor: o.req("actor", path, string)?,
                group: o.req("group", path, string)?,
            })
        }
        "save_features" => {
            let o = fields(&["user", "features"])?;
            EventKind::SaveFeatures(SaveFeaturesEvent {
                user: user(&o)?,
                features: o.req("features", path, features)?,
            })
        }
        "set_app_toggle" => {
            let o = fields(&["user", "recording", "crm_overlay"])?;
            EventKind::SetAppToggle(AppToggleEvent {
                user: user(&o)?,
                recording: o.opt("recording", path, boolean)?,
                crm_overlay: o.opt("crm_overlay", path, boolean)?,
            })
        }
        "set_plan" => EventKind::SetPlan(fields(&["plan"])?.req("plan", path, string)?),
        "call" => {
            let o = fields(&["user", "to", "direction"])?;
            EventKind::Call(CallEvent {
                user: user(&o)?,
                to: o.req("to", path, string)?,
                direction: o.opt("direction", path, named::<Direction>)?.unwrap_or(Direction::Outbound),
            })
        }
        "sms" => {
            let o = fields(&["user", "to", "direction"])?;
            EventKind::Sms(SmsEvent {
                user: user(&o)?,
                to: o.req("to", path, string)?,
                direction: o.opt("direction", path, named::<Direction>)?.unwrap_or(Direction::Outbound),
            })
        }
        other => {
            let at = member("kind").unwrap_or(v);
            return Err(bad(
                at,
                &path.field("kind"),
                format!("unknown event kind `{other}`, expected one of {}", EVENT_KINDS.join(", ")),
            ));
        }
    };
    Ok(Event { at, kind })
}

/// The settings a `set_settings` event gives (O1), read as `org` reads them.
fn settings_change(o: &Obj, path: &Path) -> R<SettingsChange> {
    let mut c = SettingsChange {
        trial: o.opt("trial", path, boolean)?,
        standard_licenses: None,
        inspections_licenses: None,
        external_license: None,
        inspections_enabled: o.opt("inspections_enabled", path, boolean)?,
        auto_assign: o.opt("auto_assign", path, boolean)?,
        auto_free: o.opt("auto_free", path, boolean)?,
        temporary_days: o.opt("temporary_days", path, u32_value)?,
        inactive_days: o.opt("inactive_days", path, u32_value)?,
        max_active_users: o.opt("max_active_users", path, u32_value)?,
        idle_logout_minutes: o.opt("idle_logout_minutes", path, u32_value)?,
        home_country_code: o.opt("home_country_code", path, string)?,
        billing_day: o.opt("billing_day", path, u8_value)?,
    };
    if let Some(l) = o.get("licenses") {
        let path = path.field("licenses");
        let l = Obj::new(l, &path, &["standard", "inspections", "external"])?;
        c.standard_licenses = l.opt("standard", &path, u32_value)?;
        c.inspections_licenses = l.opt("inspections", &path, u32_value)?;
        c.external_license = l.opt("external", &path, boolean)?;
    }
    Ok(c)
}

/// A user object inside an event (same fields as in `users`).
fn user_object(v: &Value, path: &Path) -> R<User> {
    user(v, path)
}

// ------------------------------------------------------------------ files

const SCENARIO_FIELDS: &[&str] = &["about", "explain", "org", "users", "groups", "sessions", "events"];

/// Reads a scenario from its JSON text; `source` names it in diagnostics.
/// The state must load: every problem the engine finds is reported, each
/// at its place in the file.
pub fn parse(text: &str, source: &str) -> Result<Scenario, Vec<Diagnostic>> {
    let root = json::parse(text)
        .map_err(|e| vec![diagnostic(text, source, e.at, String::new(), e.message)])?;
    let scenario = read_scenario(&root).map_err(|b| vec![diagnostic(text, source, b.at, b.path, b.message)])?;
    if let Err(problems) = State::load(scenario.state.clone()) {
        // Every problem placed, the text read once for all of them.
        let placed: Vec<(usize, String)> = problems.iter().map(|p| locate_problem(&root, &scenario.state, p)).collect();
        let offsets: Vec<usize> = placed.iter().map(|(at, _)| *at).collect();
        let lines_and_columns = json::positions(text, &offsets);
        return Err(placed
            .into_iter()
            .zip(problems)
            .zip(lines_and_columns)
            .map(|(((_, path), p), (line, column))| Diagnostic {
                source: source.to_string(),
                line,
                column,
                path,
                severity: Severity::Error,
                message: p.message,
            })
            .collect());
    }
    Ok(scenario)
}

fn read_scenario(root: &Value) -> R<Scenario> {
    let top = Path::Root;
    let o = Obj::new(root, &top, SCENARIO_FIELDS)?;
    o.opt("about", &top, string)?;
    let explain = o.opt("explain", &top, boolean)?.unwrap_or(false);
    let org_path = top.field("org");
    let settings = match o.get("org") {
        Some(v) => org(v, &org_path)?,
        None => Settings::default(),
    };
    let users = o.opt("users", &top, |v, p| list(v, p, user))?.unwrap_or_default();
    let groups = o.opt("groups", &top, |v, p| list(v, p, group))?.unwrap_or_default();
    let sessions = o.opt("sessions", &top, |v, p| list(v, p, session))?.unwrap_or_default();
    let events = match o.get("events") {
        None => Vec::new(),
        Some(v) => {
            let path = top.field("events");
            // An error inside an event is placed where the event starts.
            list(v, &path, |e, p| event(e, p).map_err(|b| Bad { at: e.at, ..b }))?
        }
    };
    let scenario = Scenario { state: OrgState { settings, users, groups, sessions }, events, explain };
    check_references(root, &scenario)?;
    Ok(scenario)
}

/// A set of ids.
type Names<'a> = std::collections::HashMap<&'a str, (), rustc_hash::FxBuildHasher>;

/// Every user and group an event names must exist by then: in `users`, or
/// created by an earlier `create_user`; in `groups`, or the Position group.
fn check_references(root: &Value, scenario: &Scenario) -> R<()> {
    let mut users: Names = scenario.state.users.iter().map(|u| (u.id.as_str(), ())).collect();
    let mut groups: Names = scenario.state.groups.iter().map(|g| (g.id.as_str(), ())).collect();
    groups.insert(POSITION_GROUP, ());
    let events_path = Path::Root.field("events");
    for (i, event) in scenario.events.iter().enumerate() {
        let path = events_path.item(i);
        let place = |field: &'static str| -> (usize, String) {
            let at = find(root, &["events".into(), i.to_string(), field.into()]).map_or(0, |v| v.at);
            (at, path.field(field).render())
        };
        for (field, id) in event.kind.users() {
            if !users.contains_key(id) {
                let (at, path) = place(field);
                return Err(Bad { at, path, message: format!("unknown user `{id}`") });
            }
        }
        match &event.kind {
            EventKind::CreateUser(e) => {
                users.insert(&e.user.id, ());
            }
            EventKind::CreateGroup(e) => {
                groups.insert(&e.group.id, ());
            }
            EventKind::DeleteGroup(GroupAction { group, .. }) | EventKind::EditGroup(EditGroupEvent { group, .. })
                if !groups.contains_key(group.as_str()) =>
            {
                let (at, path) = place("group");
                return Err(Bad { at, path, message: format!("unknown group `{group}`") });
            }
            _ => {}
        }
    }
    Ok(())
}

/// The value at `path` (keys and list positions as text), if there is one.
fn find<'v, 'a>(root: &'v Value<'a>, path: &[String]) -> Option<&'v Value<'a>> {
    let mut at = root;
    for step in path {
        at = match &at.kind {
            Kind::Object(members) => &members.iter().find(|m| m.key == *step)?.value,
            Kind::Array(items) => items.get(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

/// A problem of `State::load` located in the scenario: its field names a
/// path in the state (`settings.plan`, `users[2].id`), which is a path in
/// the file once `settings` is read as `org`. A licence type over-assigned
/// is placed at the first holder past the purchased count.
/// Gives the byte offset and the path.
fn locate_problem(root: &Value, state: &OrgState, p: &Problem) -> (usize, String) {
    let path = match p.field.strip_prefix("settings") {
        Some(rest) => format!("org{rest}"),
        None => p.field.clone(),
    };
    let mut steps: Vec<String> = path.replace('[', ".").replace(']', "").split('.').map(String::from).collect();
    if let Some(license) = p.over_assigned {
        let purchased = state.settings.licenses.purchased(license) as usize;
        let holders: Vec<usize> = (0..state.users.len()).filter(|&i| state.users[i].held_license() == Some(license)).collect();
        if let Some(&i) = holders.get(purchased).or(holders.last()) {
            steps = vec!["users".into(), i.to_string(), license.name().into()];
        }
    }
    // The deepest part of the path the file has.
    let mut at = 0;
    for n in (0..=steps.len()).rev() {
        if let Some(v) = find(root, &steps[..n]) {
            at = v.at;
            break;
        }
    }
    (at, path)
}

/// Reads the `org` object of a scenario on its own (`--org` files), then
/// applies `sets` in order: each `KEY=VALUE` sets a dotted path of the
/// object (`auto_assign=true`, `licenses.standard=50`); VALUE is JSON
/// (`true`, `50`) or else text (`plan=reach`), and a JSON value the field
/// refuses is tried as text (`home_country_code=49`).
pub fn parse_org(text: &str, source: &str, sets: &[String]) -> Result<Settings, Diagnostic> {
    let mut root = json::parse(text).map_err(|e| diagnostic(text, source, e.at, String::new(), e.message))?;
    let org_path = Path::Root.field("org");
    org(&root, &org_path).map_err(|b| diagnostic(text, source, b.at, b.path, b.message))?;
    for spec in sets {
        apply_set(&mut root, spec)?;
    }
    // Positions of set values are not in `text`: name the --set instead.
    org(&root, &org_path).map_err(|b| Diagnostic {
        source: "--set".into(),
        line: 0,
        column: 0,
        path: b.path,
        severity: Severity::Error,
        message: b.message,
    })
}

fn apply_set<'a>(root: &mut Value<'a>, spec: &'a str) -> Result<(), Diagnostic> {
    let fail = |message: String| Diagnostic {
        source: format!("--set {spec}"),
        line: 0,
        column: 0,
        path: String::new(),
        severity: Severity::Error,
        message,
    };
    let Some((key, raw)) = spec.split_once('=') else {
        return Err(fail("expected KEY=VALUE, e.g. --set licenses.standard=50".into()));
    };
    let steps: Vec<&str> = key.split('.').collect();
    if steps.iter().any(|s| s.is_empty()) {
        return Err(fail("expected a dotted path like auto_assign or licenses.standard".into()));
    }
    let text = Value { at: 0, kind: Kind::String(raw.into()) };
    let candidates = match json::parse(raw) {
        Ok(v @ Value { kind: Kind::String(_), .. }) => vec![v],
        Ok(v) => vec![v, text],
        Err(_) => vec![text],
    };
    let mut first_error = None;
    for value in candidates {
        let mut probe = Value { at: 0, kind: Kind::Object(Vec::new()) };
        set_path(&mut probe, &steps, value.clone());
        match org(&probe, &Path::Root) {
            Ok(_) => {
                if !set_path(root, &steps, value) {
                    return Err(fail(format!("`{key}` is inside a value that is not an object")));
                }
                return Ok(());
            }
            Err(b) => {
                first_error.get_or_insert_with(|| if b.path.is_empty() { b.message } else { format!("{}: {}", b.path, b.message) });
            }
        }
    }
    Err(fail(first_error.unwrap_or_default()))
}

/// Sets `path` in `root`, creating objects on the way; `false` when a value
/// on the way is not an object.
fn set_path<'a>(root: &mut Value<'a>, path: &[&'a str], value: Value<'a>) -> bool {
    let Some((last, parents)) = path.split_last() else { return false };
    let mut at = root;
    for step in parents {
        let Kind::Object(members) = &mut at.kind else { return false };
        let i = match members.iter().position(|m| m.key == *step) {
            Some(i) => i,
            None => {
                members.push(Member { key: (*step).into(), at: 0, value: Value { at: 0, kind: Kind::Object(Vec::new()) } });
                members.len() - 1
            }
        };
        at = &mut members[i].value;
    }
    let Kind::Object(members) = &mut at.kind else { return false };
    match members.iter_mut().find(|m| m.key == *last) {
        Some(m) => m.value = value,
        None => members.push(Member { key: (*last).into(), at: 0, value }),
    }
    true
}

// ------------------------------------------------------------------ writing

/// The decision line `turnstile run` prints for event number `index`:
/// fixed key order, instants as RFC 3339, enums spelled as in rules.md.
pub fn render_decision(index: u32, event: &Event, d: &Decision) -> String {
    let mut out = String::with_capacity(256);
    let mut line = ObjectWriter::new(&mut out);
    event_members(&mut line, index, event);
    decision_members(&mut line, d);
    line.end();
    out
}

/// [`render_decision`] with the remedies `explain` gave for a denial, as
/// the line's last member, `remedies` (`docs/scenario.md`, the decision
/// line): each its `summary`, its `events` as a scenario writes them, its
/// `wait_until` when it is a wait, and the `decision` the event then gets.
/// An allowed event's line is [`render_decision`]'s.
pub fn render_explained(index: u32, event: &Event, d: &Decision, remedies: &[Remedy]) -> String {
    let mut out = String::with_capacity(256 + 512 * remedies.len());
    let mut line = ObjectWriter::new(&mut out);
    event_members(&mut line, index, event);
    decision_members(&mut line, d);
    if !d.allow {
        write_list(line.key("remedies"), remedies, write_remedy);
    }
    line.end();
    out
}

fn write_remedy(out: &mut String, r: &Remedy) {
    let mut o = ObjectWriter::new(out);
    o.str("summary", &r.summary);
    write_list(o.key("events"), &r.events, write_event);
    if let Some(at) = r.wait_until {
        o.str("wait_until", &format_rfc3339(at));
    }
    let mut d = ObjectWriter::new(o.key("decision"));
    decision_members(&mut d, &r.decision);
    d.end();
    o.end();
}

/// The line's first members: the event's index, kind, user and group.
fn event_members(line: &mut ObjectWriter, index: u32, event: &Event) {
    line.raw("event", &index.to_string());
    line.str("kind", event.kind.name());
    if let Some(user) = event.kind.subject() {
        line.str("user", user);
    }
    if let Some(group) = event.kind.group() {
        line.str("group", group);
    }
}

/// A decision's members, as the line and a remedy's `decision` write them.
fn decision_members(line: &mut ObjectWriter, d: &Decision) {
    line.bool("allow", d.allow);
    line.str("code", d.code.name());
    line.str("message", &d.message);
    line.str("rule", &d.rule);
    if let Some(l) = d.license {
        line.str("license", l.name());
    }
    if let Some(at) = d.expires_at {
        line.str("expires_at", &format_rfc3339(at));
    }
    if let Some(b) = d.inspections_features {
        line.bool("inspections_features", b);
    }
    if let Some(b) = d.record {
        line.bool("record", b);
    }
    if let Some(c) = &d.calling_code {
        line.str("calling_code", c);
    }
    if let Some(p) = &d.presented_as {
        line.str("presented_as", p);
    }
    if !d.violations.is_empty() {
        write_list(line.key("violations"), &d.violations, |out, v| write_str(out, v));
    }
    if let Some(at) = d.billing_ends_at {
        line.str("billing_ends_at", &format_rfc3339(at));
    }
    if let Some(at) = d.valid_until {
        line.str("valid_until", &format_rfc3339(at));
    }
    if let Some(detail) = &d.detail {
        line.str("detail", detail);
    }
    write_list(line.key("effects"), &d.effects, write_effect);
}

fn write_effect(out: &mut String, e: &Effect) {
    let mut o = ObjectWriter::new(out);
    let license = |o: &mut ObjectWriter, kind: &str, user: &str, l: LicenseType| {
        o.str("kind", kind).str("user", user).str("license", l.name());
    };
    match e {
        Effect::Assign(a) => {
            license(&mut o, "assign", &a.user, a.license);
            o.str("at", &format_rfc3339(a.at));
        }
        Effect::Free(c) => license(&mut o, "free", &c.user, c.license),
        Effect::Unassign(c) => license(&mut o, "unassign", &c.user, c.license),
        Effect::Disable(c) => license(&mut o, "disable", &c.user, c.license),
        Effect::StartTemporary(t) => {
            o.str("kind", "start_temporary").str("user", &t.user).str("at", &format_rfc3339(t.at));
        }
        Effect::Touch(t) => {
            o.str("kind", "touch").str("user", &t.user).str("at", &format_rfc3339(t.at));
        }
        Effect::StartSession(s) => {
            o.str("kind", "start_session").str("user", &s.user).str("at", &format_rfc3339(s.at));
        }
        Effect::EndSession(user) => {
            o.str("kind", "end_session").str("user", user);
        }
        Effect::RecordActivity(a) => {
            o.str("kind", "record_activity").str("user", &a.user).str("at", &format_rfc3339(a.at));
            o.bool("tab_open", a.tab_open);
        }
        Effect::SetState(s) => {
            o.str("kind", "set_state").str("user", &s.user).str("state", s.state.name());
        }
        Effect::SetPassword(user) => {
            o.str("kind", "set_password").str("user", user);
        }
        Effect::AddUser(u) => {
            o.str("kind", "add_user").str("user", &u.id);
            write_user(o.key("record"), u);
        }
        Effect::RemoveGroup(id) => {
            o.str("kind", "remove_group").str("group", id);
        }
        Effect::SaveFeatures(f) => {
            o.str("kind", "save_features").str("user", &f.user);
            write_features(o.key("features"), &f.features);
        }
        Effect::SetAppToggles(t) => {
            o.str("kind", "set_app_toggles").str("user", &t.user);
            write_app(o.key("app"), &t.app);
        }
        Effect::SetPlan(plan) => {
            o.str("kind", "set_plan").str("plan", plan);
        }
        Effect::ConfigChanged(c) => {
            o.str("kind", "config_changed").str("user", &c.user);
            write_config(o.key("config"), &c.config);
        }
        Effect::ResetMobileUser(user) => {
            o.str("kind", "reset_mobile_user").str("user", user);
        }
        Effect::EditUser(d) => {
            o.str("kind", "edit_user").str("user", &d.user);
            write_details(o.key("details"), d);
        }
        Effect::AddGroup(g) => {
            o.str("kind", "add_group").str("group", &g.id);
            write_group(o.key("record"), g);
        }
        Effect::UpdateGroup(g) => {
            o.str("kind", "update_group").str("group", &g.id);
            write_group(o.key("record"), g);
        }
        Effect::SetSettings(c) => {
            o.str("kind", "set_settings");
            write_settings_change(o.key("settings"), c);
        }
    }
    o.end();
}

/// A user's details as an `edit_user` effect writes them: every field, an
/// absent optional one as `null`.
fn write_details(out: &mut String, d: &UserDetails) {
    let mut o = ObjectWriter::new(out);
    o.str("name", &d.name).str("email", &d.email);
    let optional = [
        ("sip", &d.sip),
        ("business_number", &d.business_number),
        ("call_presentation", &d.call_presentation),
        ("sms_presentation", &d.sms_presentation),
        ("permission_group", &d.permission_group),
    ];
    for (key, value) in optional {
        match value {
            Some(v) => o.str(key, v),
            None => o.raw(key, "null"),
        };
    }
    write_list(o.key("groups"), &d.groups, |out, g| write_str(out, g));
    o.end();
}

/// The settings a `set_settings` effect changes, spelled as in `org`.
fn write_settings_change(out: &mut String, c: &SettingsChange) {
    let mut o = ObjectWriter::new(out);
    settings_members(&mut o, c);
    o.end();
}

/// The members of a partial `org` object: a `set_settings` effect's
/// `settings`, or a `set_settings` event beside its `at` and `kind`.
fn settings_members(o: &mut ObjectWriter, c: &SettingsChange) {
    if let Some(b) = c.trial {
        o.bool("trial", b);
    }
    if c.standard_licenses.is_some() || c.inspections_licenses.is_some() || c.external_license.is_some() {
        let mut l = ObjectWriter::new(o.key("licenses"));
        if let Some(n) = c.standard_licenses {
            l.raw("standard", &n.to_string());
        }
        if let Some(n) = c.inspections_licenses {
            l.raw("inspections", &n.to_string());
        }
        if let Some(b) = c.external_license {
            l.bool("external", b);
        }
        l.end();
    }
    for (key, value) in [("inspections_enabled", c.inspections_enabled), ("auto_assign", c.auto_assign), ("auto_free", c.auto_free)] {
        if let Some(b) = value {
            o.bool(key, b);
        }
    }
    let numbers = [
        ("temporary_days", c.temporary_days),
        ("inactive_days", c.inactive_days),
        ("max_active_users", c.max_active_users),
        ("idle_logout_minutes", c.idle_logout_minutes),
    ];
    for (key, value) in numbers {
        if let Some(n) = value {
            o.raw(key, &n.to_string());
        }
    }
    if let Some(code) = &c.home_country_code {
        o.str("home_country_code", code);
    }
    if let Some(day) = c.billing_day {
        o.raw("billing_day", &day.to_string());
    }
}

/// An event as the scenario format writes one (`docs/scenario.md`, events):
/// reading it back gives the same event. Defaults are written out.
pub fn write_event(out: &mut String, e: &Event) {
    let mut o = ObjectWriter::new(out);
    o.str("at", &format_rfc3339(e.at)).str("kind", e.kind.name());
    let license = |o: &mut ObjectWriter, l: &LicenseEvent| {
        o.str("user", &l.user).str("license", l.license.name());
    };
    match &e.kind {
        EventKind::Sync(s) => {
            o.str("user", &s.user).str("channel", s.channel.name());
        }
        EventKind::Assign(l) | EventKind::Unassign(l) | EventKind::Disable(l) => license(&mut o, l),
        EventKind::Activate(user)
        | EventKind::Deactivate(user)
        | EventKind::Login(user)
        | EventKind::Logout(user)
        | EventKind::CloseSession(user)
        | EventKind::RemoveMobileUser(user) => {
            o.str("user", user);
        }
        EventKind::Activity(a) => {
            o.str("user", &a.user).bool("tab_open", a.tab_open);
        }
        EventKind::SetPassword(p) => {
            o.str("user", &p.user).str("password", &p.password).str("confirm", &p.confirm);
        }
        EventKind::CreateUser(c) => {
            o.str("actor", &c.actor);
            write_user(o.key("user"), &c.user);
            if let (Some(password), Some(confirm)) = (&c.password, &c.confirm) {
                o.str("password", password).str("confirm", confirm);
            }
        }
        EventKind::BlockUser(a) | EventKind::UnblockUser(a) | EventKind::DeleteUser(a) => {
            o.str("actor", &a.actor).str("user", &a.user);
        }
        EventKind::DeleteGroup(g) => {
            o.str("actor", &g.actor).str("group", &g.group);
        }
        EventKind::SaveFeatures(f) => {
            o.str("user", &f.user);
            write_features(o.key("features"), &f.features);
        }
        EventKind::SetAppToggle(t) => {
            o.str("user", &t.user);
            for (key, value) in [("recording", t.recording), ("crm_overlay", t.crm_overlay)] {
                if let Some(b) = value {
                    o.bool(key, b);
                }
            }
        }
        EventKind::SetPlan(plan) => {
            o.str("plan", plan);
        }
        EventKind::Call(c) => {
            o.str("user", &c.user).str("to", &c.to).str("direction", c.direction.name());
        }
        EventKind::Sms(m) => {
            o.str("user", &m.user).str("to", &m.to).str("direction", m.direction.name());
        }
        EventKind::EditUser(u) => {
            o.str("actor", &u.actor).str("user", &u.user);
            let fields = [
                ("name", &u.name),
                ("email", &u.email),
                ("sip", &u.sip),
                ("business_number", &u.business_number),
                ("call_presentation", &u.call_presentation),
                ("sms_presentation", &u.sms_presentation),
                ("permission_group", &u.permission_group),
            ];
            for (key, value) in fields {
                if let Some(v) = value {
                    o.str(key, v);
                }
            }
            if let Some(groups) = &u.groups {
                write_list(o.key("groups"), groups, |out, g| write_str(out, g));
            }
        }
        EventKind::CreateGroup(c) => {
            o.str("actor", &c.actor);
            write_group(o.key("group"), &c.group);
            write_list(o.key("members"), &c.members, |out, m| write_str(out, m));
        }
        EventKind::EditGroup(g) => {
            o.str("actor", &g.actor);
            let mut w = ObjectWriter::new(o.key("group"));
            w.str("id", &g.group);
            if let Some(name) = &g.name {
                w.str("name", name);
            }
            if let Some(parent) = &g.parent {
                w.str("parent", parent);
            }
            if let Some(permissions) = &g.permissions {
                write_list(w.key("permissions"), permissions, |out, p| write_str(out, p));
            }
            w.end();
        }
        EventKind::SetSettings(c) => settings_members(&mut o, c),
    }
    o.end();
}

/// A user as the scenario format writes one.
fn write_user(out: &mut String, u: &User) {
    let mut o = ObjectWriter::new(out);
    o.str("id", &u.id).str("name", &u.name).str("email", &u.email).bool("external", u.external);
    o.str("standard", u.standard.name()).str("inspections", u.inspections.name());
    for (key, at) in [("temporary_since", u.temporary_since), ("last_sync", u.last_sync), ("assigned_at", u.assigned_at)] {
        if let Some(at) = at {
            o.str(key, &format_rfc3339(at));
        }
    }
    o.str("account", u.account.name()).bool("has_password", u.has_password).bool("main_admin", u.main_admin);
    if let Some(g) = &u.permission_group {
        o.str("permission_group", g);
    }
    write_list(o.key("groups"), &u.groups, |out, g| write_str(out, g));
    if let Some(sip) = &u.sip {
        o.str("sip", sip);
    }
    write_features(o.key("features"), &u.features);
    write_app(o.key("app"), &u.app);
    let optional =
        [("business_number", &u.business_number), ("call_presentation", &u.call_presentation), ("sms_presentation", &u.sms_presentation)];
    for (key, value) in optional {
        if let Some(v) = value {
            o.str(key, v);
        }
    }
    o.end();
}

fn write_features(out: &mut String, f: &Features) {
    let mut o = ObjectWriter::new(out);
    o.str("feature_set", f.feature_set.name()).bool("recording", f.recording).bool("crm_overlay", f.crm_overlay);
    let mut c = ObjectWriter::new(o.key("country_filter"));
    c.bool("enabled", f.country_filter.enabled);
    write_list(c.key("allowed"), &f.country_filter.allowed, |out, a| write_str(out, a));
    c.end();
    o.end();
}

fn write_app(out: &mut String, app: &AppToggles) {
    let mut o = ObjectWriter::new(out);
    o.bool("recording", app.recording).bool("crm_overlay", app.crm_overlay);
    o.end();
}

fn write_config(out: &mut String, c: &EffectiveConfig) {
    let mut o = ObjectWriter::new(out);
    o.bool("calls", c.calls).bool("sms", c.sms).bool("recording", c.recording).bool("crm_overlay", c.crm_overlay);
    o.bool("country_filter", c.country_filter);
    write_list(o.key("allowed_countries"), &c.allowed_countries, |out, a| write_str(out, a));
    o.end();
}

/// A state as a scenario without events (`run --state-out`): reading it
/// back gives the same state. One user, group or session per line.
pub fn render_state(state: &OrgState) -> String {
    let mut out = String::from("{\"org\":");
    write_org(&mut out, &state.settings);
    let section = |out: &mut String, key: &str, items: Vec<String>| {
        out.push_str(",\n \"");
        out.push_str(key);
        out.push_str("\":[");
        for (i, item) in items.iter().enumerate() {
            out.push_str(if i == 0 { "\n  " } else { ",\n  " });
            out.push_str(item);
        }
        out.push(']');
    };
    let users = state.users.iter().map(|u| one(|out| write_user(out, u))).collect();
    section(&mut out, "users", users);
    let groups = state.groups.iter().map(|g| one(|out| write_group(out, g))).collect();
    section(&mut out, "groups", groups);
    let sessions = state.sessions.iter().map(|s| one(|out| write_session(out, s))).collect();
    section(&mut out, "sessions", sessions);
    out.push_str("}\n");
    out
}

fn one(write: impl FnOnce(&mut String)) -> String {
    let mut out = String::new();
    write(&mut out);
    out
}

fn write_org(out: &mut String, s: &Settings) {
    let mut o = ObjectWriter::new(out);
    o.bool("trial", s.trial);
    {
        let mut l = ObjectWriter::new(o.key("licenses"));
        l.raw("standard", &s.licenses.standard.to_string()).raw("inspections", &s.licenses.inspections.to_string());
        l.bool("external", s.licenses.external);
        l.end();
    }
    o.bool("inspections_enabled", s.inspections_enabled).bool("auto_assign", s.auto_assign).bool("auto_free", s.auto_free);
    o.raw("temporary_days", &s.temporary_days.to_string()).raw("inactive_days", &s.inactive_days.to_string());
    if let Some(max) = s.max_active_users {
        o.raw("max_active_users", &max.to_string());
    }
    o.raw("idle_logout_minutes", &s.idle_logout_minutes.to_string()).str("plan", &s.plan);
    write_list(o.key("plans"), &s.plans, |out, p| {
        let mut w = ObjectWriter::new(out);
        w.str("name", &p.name);
        write_list(w.key("feature_sets"), &p.feature_sets, |out, f| write_str(out, f.name()));
        w.bool("country_filter", p.country_filter).bool("recording", p.recording);
        w.end();
    });
    o.str("home_country_code", &s.home_country_code).raw("billing_day", &s.billing_day.to_string());
    o.end();
}

fn write_group(out: &mut String, g: &Group) {
    let mut o = ObjectWriter::new(out);
    o.str("id", &g.id).str("kind", g.kind.name());
    if let Some(name) = &g.name {
        o.str("name", name);
    }
    if let Some(parent) = &g.parent {
        o.str("parent", parent);
    }
    write_list(o.key("permissions"), &g.permissions, |out, p| write_str(out, p));
    o.end();
}

fn write_session(out: &mut String, s: &Session) {
    let mut o = ObjectWriter::new(out);
    o.str("user", &s.user).str("login_at", &format_rfc3339(s.login_at));
    o.str("last_activity", &format_rfc3339(s.last_activity)).bool("tab_open", s.tab_open);
    o.end();
}

/// A diagnostic as one line: `FILE:LINE:COLUMN: path: message`, leaving out
/// what it doesn't have, `warning: ` before a warning's message.
pub fn diagnostic_line(d: &Diagnostic) -> String {
    let mut out = d.source.clone();
    if d.line > 0 {
        out.push_str(&format!(":{}:{}", d.line, d.column));
    }
    out.push_str(": ");
    match d.severity {
        Severity::Warning => out.push_str("warning: "),
        Severity::Note => out.push_str("note: "),
        Severity::Error => {}
    }
    if !d.path.is_empty() {
        out.push_str(&d.path);
        out.push_str(": ");
    }
    out.push_str(&d.message);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AppToggleEvent, Group, GroupKind, User};

    /// Every kind of event, written and read back, is the same event: remedies
    /// carry events a host can feed to any reader of the format.
    #[test]
    fn events_are_written_as_they_are_read() {
        let mut change = SettingsChange {
            trial: Some(false),
            standard_licenses: Some(4),
            inspections_licenses: None,
            external_license: Some(true),
            inspections_enabled: None,
            auto_assign: None,
            auto_free: Some(true),
            temporary_days: None,
            inactive_days: Some(60),
            max_active_users: Some(7),
            idle_logout_minutes: None,
            home_country_code: Some("49".into()),
            billing_day: Some(15),
        };
        let user = User { sip: Some("101".into()), groups: vec!["position".into()], last_sync: Some(5), ..User::new("u") };
        let group = Group { id: "g".into(), kind: GroupKind::User, name: Some("G".into()), parent: None, permissions: vec![] };
        let license = LicenseEvent { user: "u".into(), license: LicenseType::Inspections };
        let action = UserAction { actor: "boss".into(), user: "u".into() };
        let kinds = vec![
            EventKind::Sync(SyncEvent { user: "u".into(), channel: Channel::Web }),
            EventKind::Assign(license.clone()),
            EventKind::Unassign(license.clone()),
            EventKind::Disable(license),
            EventKind::Activate("u".into()),
            EventKind::Deactivate("u".into()),
            EventKind::Login("u".into()),
            EventKind::Logout("u".into()),
            EventKind::Activity(ActivityEvent { user: "u".into(), tab_open: false }),
            EventKind::CloseSession("u".into()),
            EventKind::SetPassword(PasswordEvent { user: "u".into(), password: "".into(), confirm: "\"x\"".into() }),
            EventKind::CreateUser(CreateUserEvent { actor: "boss".into(), user: user.clone(), password: Some("Pw1!aaaa".into()), confirm: Some("Pw1!aaaa".into()) }),
            EventKind::CreateUser(CreateUserEvent { actor: "boss".into(), user, password: None, confirm: None }),
            EventKind::BlockUser(action.clone()),
            EventKind::UnblockUser(action.clone()),
            EventKind::DeleteUser(action),
            EventKind::DeleteGroup(GroupAction { actor: "boss".into(), group: "g".into() }),
            EventKind::SaveFeatures(SaveFeaturesEvent { user: "u".into(), features: Features::default() }),
            EventKind::SetAppToggle(AppToggleEvent { user: "u".into(), recording: None, crm_overlay: Some(false) }),
            EventKind::SetPlan("reach".into()),
            EventKind::Call(CallEvent { user: "u".into(), to: "+44 20".into(), direction: Direction::Inbound }),
            EventKind::Sms(SmsEvent { user: "u".into(), to: "0049 30".into(), direction: Direction::Outbound }),
            EventKind::RemoveMobileUser("u".into()),
            EventKind::EditUser(EditUserEvent {
                actor: "boss".into(),
                user: "u".into(),
                name: Some("N".into()),
                email: None,
                sip: None,
                business_number: Some("".into()),
                call_presentation: None,
                sms_presentation: None,
                permission_group: Some("admins".into()),
                groups: Some(vec![]),
            }),
            EventKind::CreateGroup(CreateGroupEvent { actor: "boss".into(), group, members: vec!["u".into()] }),
            EventKind::EditGroup(EditGroupEvent { actor: "boss".into(), group: "g".into(), name: None, parent: Some("".into()), permissions: Some(vec!["manage_users".into()]) }),
            EventKind::SetSettings(change.clone()),
        ];
        change.trial = None;
        for (i, kind) in kinds.into_iter().chain([EventKind::SetSettings(change)]).enumerate() {
            let e = Event { at: 1_795_341_600 + i as i64, kind };
            let mut text = String::new();
            write_event(&mut text, &e);
            let value = json::parse(&text).unwrap_or_else(|err| panic!("{text}: {err:?}"));
            let back = event(&value, &Path::Root).unwrap_or_else(|_| panic!("{text} doesn't read back"));
            assert_eq!(back, e, "{text}");
        }
    }
}
