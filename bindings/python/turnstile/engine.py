"""The Turnstile policy component on wasmtime-py: the typed WIT API as plain Python.

`wit/policy.wit` (interface `turnstile:policy/engine@0.1.0`) is called through
wasmtime's dynamic component API (`wasmtime.component`). Values cross the
boundary as plain Python data, converted by walking the WIT types the
component itself declares, so nothing here restates the contract:

- a record is a `dict` whose keys are the WIT field names in snake_case
  (`inspections-enabled` -> `"inspections_enabled"`);
- an enum value is a snake_case `str` (`license-not-found` -> `"license_not_found"`);
- a variant is `{"tag": "close_session", "val": payload}` (tag in snake_case);
- an option is the value or `None`; a list is a `list`;
- an instant (`s64`) is an `int` of seconds since 1970-01-01T00:00:00Z.

    policy = Policy("target/turnstile.wasm")
    state = {"settings": policy.default_settings(), "users": [policy.new_user("u1")],
             "groups": [], "sessions": []}
    with policy.load(state) as org:
        decision = org.step({"at": 1795255200,
                             "kind": {"tag": "sync", "val": {"user": "u1", "channel": "mobile"}}})

The component imports nothing, so the linker defines nothing.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional

import wasmtime
from wasmtime import component as wc

INTERFACE = "turnstile:policy/engine@0.1.0"

Convert = Callable[[Any], Any]


class StateError(ValueError):
    """`org.load` refused a state; `problems` lists every problem found."""

    def __init__(self, problems: List[Dict[str, str]]):
        self.problems = problems
        lines = "\n  ".join(f"{p['field']}: {p['message']}" for p in problems)
        super().__init__(f"inconsistent state:\n  {lines}")


class EffectError(ValueError):
    """`org.apply` refused an effect list; the state is unchanged."""

    def __init__(self, problem: Dict[str, str]):
        self.problem = problem
        super().__init__(f"{problem['field']}: {problem['message']}")


def _snake(name: str) -> str:
    return name.replace("-", "_")


def _classes(ty: Optional[wc.ValType]) -> tuple:
    """The Python classes wasmtime-py uses for values of `ty` (None: no payload)."""
    found: set = set()
    if ty is None:
        found.add(type(None))
    else:
        ty.add_classes(found)
    return tuple(found)


def _lowerer(ty: wc.ValType) -> Convert:
    """A function from plain Python data to wasmtime-py's values of type `ty`."""
    if isinstance(ty, wc.RecordType):
        fields = [(name, _snake(name), _lowerer(t)) for name, t in ty.fields]

        def record(value: Any) -> wc.Record:
            if not isinstance(value, dict):
                raise TypeError(f"expected a dict with keys {[p for _, p, _ in fields]}, got {value!r}")
            out = wc.Record()
            for wit, key, lower in fields:
                if key not in value:
                    raise TypeError(f"missing field `{key}`")
                setattr(out, wit, lower(value[key]))
            return out

        return record
    if isinstance(ty, wc.VariantType):
        cases = {_snake(n): (n, _lowerer(t) if t is not None else None) for n, t in ty.cases}
        tagged = ty._tagged()

        def variant(value: Any) -> Any:
            if not isinstance(value, dict) or value.get("tag") not in cases:
                raise TypeError(f"expected {{'tag': one of {sorted(cases)}, 'val': ...}}, got {value!r}")
            wit, lower = cases[value["tag"]]
            payload = lower(value.get("val")) if lower is not None else None
            return wc.Variant(wit, payload) if tagged else payload

        return variant
    if isinstance(ty, wc.EnumType):
        names = {_snake(n): n for n in ty.names}

        def enum(value: Any) -> str:
            if value not in names:
                raise TypeError(f"expected one of {sorted(names)}, got {value!r}")
            return names[value]

        return enum
    if isinstance(ty, wc.OptionType):
        lower = _lowerer(ty.payload)
        return lambda value: None if value is None else lower(value)
    if isinstance(ty, wc.ListType):
        lower = _lowerer(ty.element)
        return lambda value: [lower(v) for v in value]
    # Numbers, booleans, strings and resource handles are the same on both sides.
    return lambda value: value


def _lifter(ty: Optional[wc.ValType]) -> Convert:
    """A function from wasmtime-py's values of type `ty` to plain Python data."""
    if ty is None:
        return lambda value: None
    if isinstance(ty, wc.RecordType):
        fields = [(name, _snake(name), _lifter(t)) for name, t in ty.fields]
        return lambda value: {key: lift(getattr(value, wit)) for wit, key, lift in fields}
    if isinstance(ty, (wc.VariantType, wc.ResultType)):
        cases = ty.cases if isinstance(ty, wc.VariantType) else [("ok", ty.ok), ("err", ty.err)]
        lifts = {n: _lifter(t) for n, t in cases}
        if ty._tagged():
            return lambda value: {"tag": _snake(value.tag), "val": lifts[value.tag](value.payload)}
        # Untagged: wasmtime-py gives the payload alone; its class tells the case.
        tests = [(n, _classes(t)) for n, t in cases]

        def untagged(value: Any) -> Dict[str, Any]:
            for name, classes in tests:
                if isinstance(value, classes):
                    return {"tag": _snake(name), "val": lifts[name](value)}
            raise TypeError(f"no case of {[n for n, _ in cases]} holds {value!r}")

        return untagged
    if isinstance(ty, wc.EnumType):
        return _snake
    if isinstance(ty, wc.OptionType):
        lift = _lifter(ty.payload)
        return lambda value: None if value is None else lift(value)
    if isinstance(ty, wc.ListType):
        lift = _lifter(ty.element)
        return lambda value: [lift(v) for v in value]
    return lambda value: value


# ------------------------------------------------------------ the type cache
#
# wasmtime-py's `Func.__call__` asks the C API for the function's type on every
# call, and its converters re-read every record's fields and every variant's
# cases from it for every value: about 85% of a decision's time. The types
# never change, so each function's type tree is read once here and kept:
# every type object is given a subclass of its own wasmtime-py class whose
# `fields` / `cases` / `payload` / `ok` / `err` / `element` / `_tagged` return
# the stored answers, and the `Func` is given a `type` that returns the stored
# tree. Values are converted by wasmtime-py's own code, unchanged. (An 8x
# speed-up measured with bench.py; wasmtime-py is pinned, see requirements.txt.)

_CACHED_CLASSES: Dict[type, type] = {}
_TYPE_PROPERTIES = {
    wc.RecordType: ["fields"], wc.VariantType: ["cases"], wc.OptionType: ["payload"],
    wc.ResultType: ["ok", "err"], wc.ListType: ["element"],
}


def _cached_class(cls: type) -> type:
    if cls not in _CACHED_CLASSES:
        namespace: Dict[str, Any] = {
            name: property(lambda self, name=name: self.__dict__["_cached"][name]) for name in _TYPE_PROPERTIES[cls]
        }
        if issubclass(cls, (wc.VariantType, wc.OptionType, wc.ResultType)):
            namespace["_tagged"] = lambda self: self.__dict__["_cached"]["_tagged"]
        _CACHED_CLASSES[cls] = type(f"Cached{cls.__name__}", (cls,), namespace)
    return _CACHED_CLASSES[cls]


def _cache(ty: Optional[wc.ValType]) -> Optional[wc.ValType]:
    """`ty` with its type tree read once and kept (see above); other types as they are."""
    cls = type(ty)
    if cls not in _TYPE_PROPERTIES:
        return ty
    cached: Dict[str, Any] = {}
    for name in _TYPE_PROPERTIES[cls]:
        value = getattr(ty, name)
        cached[name] = [(n, _cache(t)) for n, t in value] if isinstance(value, list) else _cache(value)
    if isinstance(ty, (wc.VariantType, wc.OptionType, wc.ResultType)):
        cached["_tagged"] = ty._tagged()
    ty.__dict__["_cached"] = cached
    ty.__class__ = _cached_class(cls)
    return ty


class _CachedFuncType:
    def __init__(self, ty: wc.FuncType):
        self.params = [(name, _cache(t)) for name, t in ty.params]
        self.result = _cache(ty.result)
        self._ty = ty  # keeps the C-side type alive


class _Function:
    """One exported function with its argument and result converters."""

    def __init__(self, store: wasmtime.Store, instance: wc.Instance, name: str):
        interface = instance.get_export_index(store, INTERFACE)
        index = instance.get_export_index(store, name, interface) if interface else None
        func = instance.get_func(store, index) if index else None
        if func is None:
            raise LookupError(f"the component exports no `{INTERFACE}#{name}`")
        ty = _CachedFuncType(func.type(store))
        func.type = lambda _store: ty  # type: ignore[method-assign]
        self._store = store
        self._func = func
        self._params = [_lowerer(t) for _, t in ty.params]
        self._result = _lifter(ty.result)

    def __call__(self, *args: Any) -> Any:
        values = [lower(a) for lower, a in zip(self._params, args)]
        return self._result(self._func(self._store, *values))


class Policy:
    """The policy component, compiled and instantiated once; `load` gives an `Org`.

    `path` is the file `turnstile component --out FILE` wrote; without it,
    `$TURNSTILE_WASM`. Not thread-safe: one `Policy` per thread.
    """

    def __init__(self, path: Optional[str] = None):
        path = path or os.environ.get("TURNSTILE_WASM")
        if not path:
            raise ValueError("no component: pass the path `turnstile component --out FILE` wrote")
        engine = wasmtime.Engine()
        self._store = wasmtime.Store(engine)
        component = wc.Component.from_file(engine, path)
        instance = wc.Linker(engine).instantiate(self._store, component)
        f = lambda name: _Function(self._store, instance, name)  # noqa: E731
        self._default_settings = f("default-settings")
        self._new_user = f("new-user")
        self._load = f("[static]org.load")
        self._decide = f("[method]org.decide")
        self._apply = f("[method]org.apply")
        self._step = f("[method]org.step")
        self._snapshot = f("[method]org.snapshot")

    def default_settings(self) -> Dict[str, Any]:
        """The settings of rules.md, with the default plans `basic`, `reach`, `record`."""
        return self._default_settings()

    def new_user(self, id: str) -> Dict[str, Any]:
        """A user with every field at its default."""
        return self._new_user(id)

    def load(self, state: Dict[str, Any]) -> "Org":
        """Checks and loads an organisation's state; raises `StateError` listing every problem."""
        result = self._load(state)
        if result["tag"] == "err":
            raise StateError(result["val"])
        return Org(self, result["val"])


class Org:
    """One organisation's state inside the component (the WIT resource `org`).

    Use as a context manager, or call `close()`, to free it in the component.
    """

    def __init__(self, policy: Policy, handle: wc.ResourceAny):
        self._policy = policy
        self._handle: Optional[wc.ResourceAny] = handle

    def _h(self) -> wc.ResourceAny:
        if self._handle is None:
            raise ValueError("this org is closed")
        return self._handle

    def decide(self, event: Dict[str, Any]) -> Dict[str, Any]:
        """The decision for `event` in the current state. Changes nothing."""
        return self._policy._decide(self._h(), event)

    def apply(self, effects: List[Dict[str, Any]]) -> None:
        """Performs effects in order, all or nothing; raises `EffectError`."""
        result = self._policy._apply(self._h(), effects)
        if result["tag"] == "err":
            raise EffectError(result["val"])

    def step(self, event: Dict[str, Any]) -> Dict[str, Any]:
        """`decide`, then `apply` of that decision's effects."""
        return self._policy._step(self._h(), event)

    def snapshot(self) -> Dict[str, Any]:
        """The whole current state, to persist and later `Policy.load`."""
        return self._policy._snapshot(self._h())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.drop(self._policy._store)
            self._handle = None

    def __enter__(self) -> "Org":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
