//! Decisions as JSON lines (`scenario.md`): fixed key order, instants as
//! RFC 3339, enums spelled as in rules.md. Same decision, same bytes.

use serde_json::{Map, Value, json};
use turnstile_policy::calendar::format_rfc3339;
use turnstile_policy::model::{
    Decision, Effect, EffectiveConfig, Event, EventKind, Features, Instant, Named, User,
};

/// The line for event number `index`.
pub fn decision_line(index: usize, event: &Event, d: &Decision) -> String {
    decision_value(index, event, d).to_string()
}

pub fn decision_value(index: usize, event: &Event, d: &Decision) -> Value {
    let mut line = Map::new();
    line.insert("event".into(), json!(index));
    line.insert("kind".into(), json!(event.kind.name()));
    if let Some(user) = event.kind.subject() {
        line.insert("user".into(), json!(user));
    }
    if let EventKind::DeleteGroup(e) = &event.kind {
        line.insert("group".into(), json!(e.group));
    }
    line.insert("allow".into(), json!(d.allow));
    line.insert("code".into(), json!(d.code.name()));
    line.insert("message".into(), json!(d.message));
    line.insert("rule".into(), json!(d.rule));
    let mut optional = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            line.insert(key.into(), value);
        }
    };
    optional("license", d.license.map(|l| json!(l.name())));
    optional("expires_at", d.expires_at.map(instant));
    optional("inspections_features", d.inspections_features.map(Value::from));
    optional("record", d.record.map(Value::from));
    optional("calling_code", d.calling_code.as_ref().map(|c| json!(c)));
    optional("violations", (!d.violations.is_empty()).then(|| json!(d.violations)));
    optional("billing_ends_at", d.billing_ends_at.map(instant));
    optional("detail", d.detail.as_ref().map(|t| json!(t)));
    line.insert("effects".into(), Value::Array(d.effects.iter().map(effect).collect()));
    Value::Object(line)
}

pub fn effect(e: &Effect) -> Value {
    match e {
        Effect::Assign(a) => {
            json!({"kind": "assign", "user": a.user, "license": a.license.name(), "at": instant(a.at)})
        }
        Effect::Free(c) => json!({"kind": "free", "user": c.user, "license": c.license.name()}),
        Effect::Unassign(c) => json!({"kind": "unassign", "user": c.user, "license": c.license.name()}),
        Effect::Disable(c) => json!({"kind": "disable", "user": c.user, "license": c.license.name()}),
        Effect::StartTemporary(t) => json!({"kind": "start_temporary", "user": t.user, "at": instant(t.at)}),
        Effect::Touch(t) => json!({"kind": "touch", "user": t.user, "at": instant(t.at)}),
        Effect::StartSession(s) => json!({"kind": "start_session", "user": s.user, "at": instant(s.at)}),
        Effect::EndSession(user) => json!({"kind": "end_session", "user": user}),
        Effect::RecordActivity(a) => {
            json!({"kind": "record_activity", "user": a.user, "at": instant(a.at), "tab_open": a.tab_open})
        }
        Effect::SetState(s) => json!({"kind": "set_state", "user": s.user, "state": s.state.name()}),
        Effect::SetPassword(user) => json!({"kind": "set_password", "user": user}),
        Effect::AddUser(u) => json!({"kind": "add_user", "user": u.id, "record": user(u)}),
        Effect::RemoveGroup(id) => json!({"kind": "remove_group", "group": id}),
        Effect::SaveFeatures(f) => json!({"kind": "save_features", "user": f.user, "features": features(&f.features)}),
        Effect::SetAppToggles(t) => json!({"kind": "set_app_toggles", "user": t.user,
            "app": {"recording": t.app.recording, "crm_overlay": t.app.crm_overlay}}),
        Effect::SetPlan(plan) => json!({"kind": "set_plan", "plan": plan}),
        Effect::ConfigChanged(c) => json!({"kind": "config_changed", "user": c.user, "config": config(&c.config)}),
    }
}

/// A user as the scenario format writes one.
pub fn user(u: &User) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(u.id));
    m.insert("name".into(), json!(u.name));
    m.insert("email".into(), json!(u.email));
    m.insert("external".into(), json!(u.external));
    m.insert("standard".into(), json!(u.standard.name()));
    m.insert("inspections".into(), json!(u.inspections.name()));
    for (key, at) in [("temporary_since", u.temporary_since), ("last_sync", u.last_sync), ("assigned_at", u.assigned_at)] {
        if let Some(at) = at {
            m.insert(key.into(), instant(at));
        }
    }
    m.insert("account".into(), json!(u.account.name()));
    m.insert("has_password".into(), json!(u.has_password));
    m.insert("main_admin".into(), json!(u.main_admin));
    if let Some(g) = &u.permission_group {
        m.insert("permission_group".into(), json!(g));
    }
    m.insert("groups".into(), json!(u.groups));
    if let Some(sip) = &u.sip {
        m.insert("sip".into(), json!(sip));
    }
    m.insert("features".into(), features(&u.features));
    m.insert("app".into(), json!({"recording": u.app.recording, "crm_overlay": u.app.crm_overlay}));
    Value::Object(m)
}

fn features(f: &Features) -> Value {
    json!({
        "feature_set": f.feature_set.name(),
        "recording": f.recording,
        "crm_overlay": f.crm_overlay,
        "country_filter": {"enabled": f.country_filter.enabled, "allowed": f.country_filter.allowed},
    })
}

fn config(c: &EffectiveConfig) -> Value {
    json!({
        "calls": c.calls,
        "sms": c.sms,
        "recording": c.recording,
        "crm_overlay": c.crm_overlay,
        "country_filter": c.country_filter,
        "allowed_countries": c.allowed_countries,
    })
}

pub fn instant(at: Instant) -> Value {
    Value::String(format_rfc3339(at))
}
