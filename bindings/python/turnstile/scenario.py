"""Scenario files (shared/spec/scenario.md) in, decision lines out, as `turnstile run` does.

`read` turns a scenario's JSON into the WIT values `Policy.load` and
`Org.step` take; `decision_line` turns a decision into the JSON object the Rust
host prints (host/src/render.rs); `run` does both for every event.

Defaults are not restated: an organisation starts from the component's
`default-settings()`, a user from its `new-user(id)`, a features form from the
features `new-user` gives. The only defaults written here are the scenario
format's own: a `sync` is `mobile` and a `call` is `outbound` unless they say.

Reading is strict like the Rust reader: an unknown field, a missing field, a
value of the wrong JSON type, a bad instant or an event naming a user nobody
has is a `ScenarioError` naming its JSON path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from .engine import Policy, StateError

# ------------------------------------------------------------------ instants

_DAY = 86_400
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})\Z", re.ASCII
)


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> Tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d


def _days_in_month(y: int, m: int) -> int:
    if m == 2:
        return 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28
    return 30 if m in (4, 6, 9, 11) else 31


def parse_instant(text: str) -> int:
    """RFC 3339 text (`2026-11-22T10:00:00Z`, `...+01:00`) to seconds since the epoch.

    Whole seconds only: a fraction must be all zeros, as in the Rust host.
    """
    m = _RFC3339.match(text)

    def bad(why: str) -> ValueError:
        return ValueError(f"`{text}` is not an RFC 3339 instant ({why}), e.g. 2026-11-22T10:00:00Z")

    if not m:
        raise bad("expected YYYY-MM-DDTHH:MM:SSZ or an offset like +01:00")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, zone = m.group(7), m.group(8)
    if not 1 <= month <= 12 or not 1 <= day <= _days_in_month(year, month):
        raise bad("no such date")
    if hour > 23 or minute > 59 or second > 59:
        raise bad("no such time of day")
    if fraction and fraction.strip("0"):
        raise bad("instants have whole-second precision")
    offset = 0
    if zone not in ("Z", "z"):
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise bad("bad UTC offset")
        offset = (hours * 3600 + minutes * 60) * (-1 if zone[0] == "-" else 1)
    return _days_from_civil(year, month, day) * _DAY + hour * 3600 + minute * 60 + second - offset


def format_instant(at: int) -> str:
    """Seconds since the epoch to `YYYY-MM-DDTHH:MM:SSZ`."""
    year, month, day = _civil_from_days(at // _DAY)
    secs = at % _DAY
    return f"{year:04}-{month:02}-{day:02}T{secs // 3600:02}:{secs // 60 % 60:02}:{secs % 60:02}Z"


# ------------------------------------------------------------------ reading


class ScenarioError(ValueError):
    """A scenario that cannot be read; the message starts with the JSON path."""


@dataclass
class Scenario:
    state: Dict[str, Any]
    events: List[Dict[str, Any]]


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else "null"
    )


def _check(path: str, value: Any, kind: str) -> Any:
    ok = {
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
        "u32": isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFF_FFFF,
        "u8": isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFF,
        "object": isinstance(value, dict),
        "list": isinstance(value, list),
    }[kind]
    if not ok:
        wanted = {"bool": "a boolean", "str": "a string", "u32": "an integer 0..4294967295",
                  "u8": "an integer 0..255", "object": "an object", "list": "a list"}[kind]
        raise ScenarioError(f"{path}: expected {wanted}, got {_type_name(value)}")
    return value


class _Object:
    """One JSON object being read: every field must be known, required ones present."""

    def __init__(self, path: str, value: Any, known: List[str]):
        self.path = path
        self.value = _check(path or "scenario", value, "object")
        for key in self.value:
            if key not in known:
                raise ScenarioError(f"{self.at(key)}: unknown field, expected one of {', '.join(known)}")

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, kind: str, default: Any = None) -> Any:
        """The field (null counts as absent), checked, or `default`."""
        value = self.value.get(key)
        if value is None:
            return default
        if kind == "instant":
            try:
                return parse_instant(_check(self.at(key), value, "str"))
            except ValueError as e:
                raise ScenarioError(f"{self.at(key)}: {e}") from None
        if kind == "strs":
            return [_check(f"{self.at(key)}[{i}]", v, "str") for i, v in enumerate(_check(self.at(key), value, "list"))]
        return _check(self.at(key), value, kind)

    def need(self, key: str, kind: str) -> Any:
        value = self.get(key, kind)
        if value is None:
            raise ScenarioError(f"{self.at(key)}: missing field")
        return value

    def overlay(self, target: Dict[str, Any], fields: Dict[str, str]) -> None:
        """Sets each present field of `fields` (name -> kind) on `target`."""
        for key, kind in fields.items():
            value = self.get(key, kind)
            if value is not None:
                target[key] = value


_SETTINGS = {
    "trial": "bool", "inspections_enabled": "bool", "auto_assign": "bool", "auto_free": "bool",
    "temporary_days": "u32", "inactive_days": "u32", "max_active_users": "u32",
    "idle_logout_minutes": "u32", "plan": "str", "home_country_code": "str", "billing_day": "u8",
}
_USER = {
    "name": "str", "email": "str", "external": "bool", "standard": "str", "inspections": "str",
    "temporary_since": "instant", "last_sync": "instant", "assigned_at": "instant", "account": "str",
    "has_password": "bool", "main_admin": "bool", "permission_group": "str", "groups": "strs", "sip": "str",
}


def _settings(policy: Policy, value: Any) -> Dict[str, Any]:
    org = _Object("org", value, [*_SETTINGS, "licenses", "plans"])
    settings = policy.default_settings()
    org.overlay(settings, _SETTINGS)
    if org.get("licenses", "object") is not None:
        licenses = _Object("org.licenses", org.value["licenses"], ["standard", "inspections", "external"])
        licenses.overlay(settings["licenses"], {"standard": "u32", "inspections": "u32", "external": "bool"})
    # An organisation's own plans are added to the defaults, replacing a default one of the
    # same name; two of its own with one name are both kept, so loading refuses them.
    own: List[str] = []
    for i, raw in enumerate(org.get("plans", "list", [])):
        p = _Object(f"org.plans[{i}]", raw, ["name", "feature_sets", "country_filter", "recording"])
        plan = {
            "name": p.need("name", "str"),
            "feature_sets": p.get("feature_sets", "strs", []),
            "country_filter": p.get("country_filter", "bool", False),
            "recording": p.get("recording", "bool", False),
        }
        defaults = [n for n, p in enumerate(settings["plans"]) if p["name"] == plan["name"] and p["name"] not in own]
        own.append(plan["name"])
        if defaults:
            settings["plans"][defaults[0]] = plan
        else:
            settings["plans"].append(plan)
    return settings


def _features(policy: Policy, path: str, value: Any) -> Dict[str, Any]:
    """A features form: absent fields take the defaults (a save saves the whole form)."""
    form = _Object(path, value, ["feature_set", "recording", "crm_overlay", "country_filter"])
    features = policy.new_user("")["features"]
    form.overlay(features, {"feature_set": "str", "recording": "bool", "crm_overlay": "bool"})
    if form.get("country_filter", "object") is not None:
        cf = _Object(f"{path}.country_filter", form.value["country_filter"], ["enabled", "allowed"])
        cf.overlay(features["country_filter"], {"enabled": "bool", "allowed": "strs"})
    return features


def _user(policy: Policy, path: str, value: Any) -> Dict[str, Any]:
    u = _Object(path, value, ["id", *_USER, "features", "app"])
    user = policy.new_user(u.need("id", "str"))
    u.overlay(user, _USER)
    if u.get("features", "object") is not None:
        user["features"] = _features(policy, u.at("features"), u.value["features"])
    if u.get("app", "object") is not None:
        _Object(u.at("app"), u.value["app"], ["recording", "crm_overlay"]).overlay(
            user["app"], {"recording": "bool", "crm_overlay": "bool"}
        )
    return user


def _group(path: str, value: Any) -> Dict[str, Any]:
    g = _Object(path, value, ["id", "kind", "parent", "permissions"])
    return {
        "id": g.need("id", "str"),
        "kind": g.need("kind", "str"),
        "parent": g.get("parent", "str"),
        "permissions": g.get("permissions", "strs", []),
    }


# Each event kind: its fields besides `at` and `kind`, and how to build the WIT payload.
_Reader = Callable[[Policy, _Object], Any]


def _license(e: _Object) -> Dict[str, Any]:
    return {"user": e.need("user", "str"), "license": e.need("license", "str")}


_EVENTS: Dict[str, Tuple[List[str], _Reader]] = {
    "sync": (["user", "channel"],
             lambda p, e: {"user": e.need("user", "str"), "channel": e.get("channel", "str", "mobile")}),
    "assign": (["user", "license"], lambda p, e: _license(e)),
    "unassign": (["user", "license"], lambda p, e: _license(e)),
    "disable": (["user", "license"], lambda p, e: _license(e)),
    **{k: (["user"], lambda p, e: e.need("user", "str"))
       for k in ("activate", "deactivate", "login", "logout", "close_session")},
    "activity": (["user", "tab_open"],
                 lambda p, e: {"user": e.need("user", "str"), "tab_open": e.need("tab_open", "bool")}),
    "set_password": (["user", "password", "confirm"],
                     lambda p, e: {k: e.need(k, "str") for k in ("user", "password", "confirm")}),
    "create_user": (["actor", "user"],
                    lambda p, e: {"actor": e.need("actor", "str"), "user": _user(p, e.at("user"), e.need("user", "object"))}),
    **{k: (["actor", "user"], lambda p, e: {"actor": e.need("actor", "str"), "user": e.need("user", "str")})
       for k in ("block_user", "unblock_user", "delete_user")},
    "delete_group": (["actor", "group"],
                     lambda p, e: {"actor": e.need("actor", "str"), "group": e.need("group", "str")}),
    "save_features": (["user", "features"],
                      lambda p, e: {"user": e.need("user", "str"),
                                    "features": _features(p, e.at("features"), e.need("features", "object"))}),
    "set_app_toggle": (["user", "recording", "crm_overlay"],
                       lambda p, e: {"user": e.need("user", "str"), "recording": e.get("recording", "bool"),
                                     "crm_overlay": e.get("crm_overlay", "bool")}),
    "set_plan": (["plan"], lambda p, e: e.need("plan", "str")),
    "call": (["user", "to", "direction"],
             lambda p, e: {"user": e.need("user", "str"), "to": e.need("to", "str"),
                           "direction": e.get("direction", "str", "outbound")}),
    "sms": (["user", "to"], lambda p, e: {"user": e.need("user", "str"), "to": e.need("to", "str")}),
}


def _event(policy: Policy, path: str, value: Any) -> Dict[str, Any]:
    kind = _check(f"{path}.kind", _check(path, value, "object").get("kind"), "str")
    if kind not in _EVENTS:
        raise ScenarioError(f"{path}.kind: unknown event kind `{kind}`, expected one of {', '.join(_EVENTS)}")
    fields, build = _EVENTS[kind]
    e = _Object(path, value, ["at", "kind", *fields])
    # Scenario kinds are the WIT case names in snake_case: the kind is the tag.
    return {"at": e.need("at", "instant"), "kind": {"tag": kind, "val": build(policy, e)}}


def named_users(kind: Dict[str, Any]) -> List[Tuple[str, str]]:
    """The existing users an event names, as (field, id), its subject first (as the Rust host's)."""
    tag, val = kind["tag"], kind["val"]
    if tag == "set_plan":
        return []
    if tag in ("create_user", "delete_group"):
        return [("actor", val["actor"])]
    if tag in ("block_user", "unblock_user", "delete_user"):
        return [("user", val["user"]), ("actor", val["actor"])]
    return [("user", val if isinstance(val, str) else val["user"])]


def _check_references(state: Dict[str, Any], events: List[Dict[str, Any]]) -> None:
    users = {u["id"] for u in state["users"]}
    groups = {g["id"] for g in state["groups"]} | {"position"}
    for i, event in enumerate(events):
        for field, id in named_users(event["kind"]):
            if id not in users:
                raise ScenarioError(f"events[{i}].{field}: unknown user `{id}`")
        tag, val = event["kind"]["tag"], event["kind"]["val"]
        if tag == "create_user":
            users.add(val["user"]["id"])
        elif tag == "delete_group" and val["group"] not in groups:
            raise ScenarioError(f"events[{i}].group: unknown group `{val['group']}`")


def read(policy: Policy, text: str) -> Scenario:
    """A scenario's JSON text as the state to load and the events to step."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ScenarioError(f"{e.lineno}:{e.colno}: {e.msg}") from None
    top = _Object("", data, ["about", "org", "users", "groups", "events"])
    state = {
        "settings": _settings(policy, top.get("org", "object", {})),
        "users": [_user(policy, f"users[{i}]", u) for i, u in enumerate(top.get("users", "list", []))],
        "groups": [_group(f"groups[{i}]", g) for i, g in enumerate(top.get("groups", "list", []))],
        "sessions": [],
    }
    events = [_event(policy, f"events[{i}]", e) for i, e in enumerate(top.get("events", "list", []))]
    _check_references(state, events)
    return Scenario(state, events)


# ------------------------------------------------------------------ writing

# Effects whose payload is a bare string, and the key it goes under.
_STRING_EFFECTS = {"end_session": "user", "set_password": "user", "remove_group": "group", "set_plan": "plan"}


def user_json(user: Dict[str, Any]) -> Dict[str, Any]:
    """A user as the scenario format writes one: absent options left out, instants as text."""
    out: Dict[str, Any] = {}
    for key, value in user.items():
        if value is None:
            continue
        out[key] = format_instant(value) if key in ("temporary_since", "last_sync", "assigned_at") else value
    return out


def effect_json(effect: Dict[str, Any]) -> Dict[str, Any]:
    tag, val = effect["tag"], effect["val"]
    if tag == "add_user":
        return {"kind": tag, "user": val["id"], "record": user_json(val)}
    if isinstance(val, str):
        return {"kind": tag, _STRING_EFFECTS[tag]: val}
    out = {"kind": tag}
    out.update((k, format_instant(v) if k == "at" else v) for k, v in val.items())
    return out


def subject(kind: Dict[str, Any]) -> Optional[str]:
    """The user a decision line is about: a new user for `create_user`, nobody for `set_plan`."""
    if kind["tag"] == "create_user":
        return kind["val"]["user"]["id"]
    if kind["tag"] == "delete_group":
        return None
    users = named_users(kind)
    return users[0][1] if users else None


# The decision's optional fields, in the order the Rust host writes them; instants marked.
_OPTIONAL = [("license", False), ("expires_at", True), ("inspections_features", False), ("record", False),
             ("calling_code", False), ("violations", False), ("billing_ends_at", True), ("detail", False)]


def decision_line(index: int, event: Dict[str, Any], decision: Dict[str, Any]) -> Dict[str, Any]:
    """The JSON object `turnstile run` prints for event number `index`."""
    kind = event["kind"]
    line: Dict[str, Any] = {"event": index, "kind": kind["tag"]}
    who = subject(kind)
    if who is not None:
        line["user"] = who
    if kind["tag"] == "delete_group":
        line["group"] = kind["val"]["group"]
    line["allow"] = decision["allow"]
    line["code"] = decision["code"].upper()
    line["message"] = decision["message"]
    line["rule"] = decision["rule"]
    for key, is_instant in _OPTIONAL:
        value = decision.get(key)
        if value is None or value == []:
            continue
        line[key] = format_instant(value) if is_instant else value
    line["effects"] = [effect_json(e) for e in decision["effects"]]
    return line


def run(policy: Policy, scenario: Scenario) -> List[Dict[str, Any]]:
    """Loads the state, steps every event in order and returns one decision line per event.

    A state `load` refuses is a `ScenarioError` listing every problem in the
    scenario's terms (`org.plan` for the WIT's `settings.plan`), as the Rust host says it.
    """
    try:
        org = policy.load(scenario.state)
    except StateError as e:
        fields = ["org" + p["field"][len("settings"):] if p["field"].startswith("settings") else p["field"]
                  for p in e.problems]
        lines = "\n  ".join(f"{f}: {p['message']}" for f, p in zip(fields, e.problems))
        raise ScenarioError(f"inconsistent state:\n  {lines}") from None
    with org:
        return [decision_line(i, event, org.step(event)) for i, event in enumerate(scenario.events)]


def dumps(line: Dict[str, Any]) -> str:
    """A decision line as compact JSON, like the Rust host's."""
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))
