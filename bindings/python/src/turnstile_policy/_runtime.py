"""The component on wasmtime-py, and how typed values cross its boundary.

`_generated.py` (written by `generate.py` from the WIT) defines the classes,
one `Component` subclass per world (the interfaces its component must
export), and a SCHEMA naming, for every exported function, the WIT types of
its parameters and result. Here each interface and function is looked up in
the component and,
once, a converter is built for each parameter and the result by walking the
schema and the component's own type of that value side by side: a record
whose fields differ, an enum with other cases, a function the component
doesn't export is an `IncompatibleComponent` error when the component is
loaded, not a wrong value later. Values are then converted between the
generated classes and wasmtime-py's (`Record`, `Variant`, `str` enum names),
and wasmtime-py's own code moves them in and out of the component.

The components import nothing, so the linker defines nothing. Each
component has an engine and a store of its own; values cross from one to
another as the generated classes (a scenario the formats component read is
handed to the policy component's engine as it is).
"""

from __future__ import annotations

import enum
from typing import Any, Callable, ClassVar, Dict, List, Optional, Sequence, Tuple

import wasmtime
from wasmtime import component as wc

Convert = Callable[[Any], Any]


# ------------------------------------------------------------------ base classes of the generated code

class WitEnum(str, enum.Enum):
    """A WIT enum: each member is also its snake_case name as a `str` (`Code.LICENSE_NOT_FOUND == "license_not_found"`)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class Variant:
    """A WIT variant: each case is a subclass with the case's `tag` and, when it has one, its `value`."""

    __slots__ = ()
    tag: ClassVar[str]


class TurnstileError(Exception):
    """A call the component refused: `payload` is the WIT error value (typed)."""

    def __init__(self, message: str, payload: Any):
        super().__init__(message)
        self.payload = payload


class ProblemError(TurnstileError):
    """A state or effect list refused: `problems` lists every problem found (each `field: message`)."""

    def __init__(self, problems: List[Any], payload: Any):
        super().__init__("\n".join(f"{p.field}: {p.message}" for p in problems), payload)
        self.problems = problems


class DiagnosticError(TurnstileError):
    """An input that can't be read (a scenario, an organisation): `diagnostics`, each placed in
    the input, and `lines`, the same as the component writes them (`FILE:LINE:COLUMN: path: message`,
    what `turnstile run` prints after `turnstile: `). `str(error)` is the lines."""

    def __init__(self, diagnostics: List[Any], lines: List[str], payload: Any):
        super().__init__("\n".join(lines), payload)
        self.diagnostics = diagnostics
        self.lines = lines


class IncompatibleComponent(Exception):
    """The component file is not the one these bindings were generated for."""


# Error values (by WIT type name) that have an exception class of their own.
_ERROR_CLASSES = {"problem": ProblemError, "diagnostic": DiagnosticError}


class Resource:
    """A WIT resource held in the component. Close it (or use `with`) to free it there."""

    __slots__ = ("_component", "_handle")

    def __init__(self, component: "Component", handle: wc.ResourceAny):
        self._component = component
        self._handle: Optional[wc.ResourceAny] = handle

    def _h(self) -> wc.ResourceAny:
        if self._handle is None:
            raise ValueError(f"this {type(self).__name__} is closed (or was handed over to the component)")
        return self._handle

    def close(self) -> None:
        """Frees it in the component; calls on it then raise `ValueError`. Closing twice is harmless."""
        if self._handle is not None:
            handle, self._handle = self._handle, None
            handle.drop(self._component._store)

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}{' (closed)' if self._handle is None else ''}>"


class Statics:
    """The constructor and static functions of a resource, bound to one component."""

    __slots__ = ("_component",)

    def __init__(self, component: "Component"):
        self._component = component


class Interface:
    """The functions of one WIT interface, bound to one component."""

    NAME: ClassVar[str]

    def __init__(self, component: "Component"):
        self._component = component


# ------------------------------------------------------------------ the type cache
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
_TYPE_PROPERTIES: Dict[type, List[str]] = {
    wc.RecordType: ["fields"], wc.VariantType: ["cases"], wc.OptionType: ["payload"],
    wc.ResultType: ["ok", "err"], wc.ListType: ["element"], wc.TupleType: ["elements"],
}


def _stored(name: str) -> property:
    return property(lambda self: self.__dict__["_cached"][name])


def _cached_class(cls: type) -> type:
    if cls not in _CACHED_CLASSES:
        namespace: Dict[str, Any] = {name: _stored(name) for name in _TYPE_PROPERTIES[cls]}
        if issubclass(cls, (wc.VariantType, wc.OptionType, wc.ResultType)):
            namespace["_tagged"] = lambda self: self.__dict__["_cached"]["_tagged"]
        if issubclass(cls, wc.ListType):
            namespace["_is_bytes"] = lambda self: self.__dict__["_cached"]["_is_bytes"]
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
        if isinstance(value, list):
            cached[name] = [(n, _cache(t)) for n, t in value] if value and isinstance(value[0], tuple) else [
                _cache(t) for t in value]
        else:
            cached[name] = _cache(value)
    if isinstance(ty, (wc.VariantType, wc.OptionType, wc.ResultType)):
        cached["_tagged"] = ty._tagged()
    if isinstance(ty, wc.ListType):
        cached["_is_bytes"] = ty._is_bytes()
    ty.__dict__["_cached"] = cached
    ty.__class__ = _cached_class(cls)
    return ty


class _CachedFuncType:
    def __init__(self, ty: wc.FuncType):
        self.params = [(name, _cache(t)) for name, t in ty.params]
        self.result = _cache(ty.result)
        self._ty = ty  # keeps the C-side type alive


# ------------------------------------------------------------------ converters

class _Bad(Exception):
    """A value that doesn't fit its WIT type; `path` grows as it is re-raised outwards."""

    def __init__(self, message: str, path: str = ""):
        self.message = message
        self.path = path

    def at(self, step: str) -> "_Bad":
        self.path = step + self.path
        return self


def _name(value: Any) -> str:
    return type(value).__name__


_KINDS = {"RecordType": "a record", "ListType": "a list", "VariantType": "a variant", "EnumType": "an enum",
          "OptionType": "an option", "ResultType": "a result", "TupleType": "a tuple", "FlagsType": "flags",
          "OwnType": "a resource", "BorrowType": "a borrowed resource"}


def _kind(ty: Any) -> str:
    """What a component type is, in WIT's words (`a record`, `u32`)."""
    name = type(ty).__name__
    name = name[len("Cached"):] if name.startswith("Cached") else name
    return _KINDS.get(name, name.lower())


def _identity(value: Any) -> Any:
    return value


def _ints(lo: int, hi: int, wit: str) -> Convert:
    def check(value: Any) -> Any:
        if type(value) is not int or not lo <= value <= hi:
            if isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi:
                return int(value)
            raise _Bad(f"expected {wit} (an int {lo}..{hi}), got {value!r}")
        return value
    return check


def _bool(value: Any) -> Any:
    if value is True or value is False:
        return value
    raise _Bad(f"expected a bool, got {value!r}")


def _str(value: Any) -> Any:
    if isinstance(value, str):
        return value
    raise _Bad(f"expected a str, got {_name(value)}")


def _char(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 1:
        return value
    raise _Bad(f"expected a str of one character, got {value!r}")


def _float(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise _Bad(f"expected a float, got {_name(value)}")


_PRIMITIVES: Dict[str, Tuple[type, Convert]] = {
    "bool": (wc.Bool, _bool), "string": (wc.String, _str), "char": (wc.Char, _char),
    "s8": (wc.S8, _ints(-(1 << 7), (1 << 7) - 1, "s8")), "u8": (wc.U8, _ints(0, (1 << 8) - 1, "u8")),
    "s16": (wc.S16, _ints(-(1 << 15), (1 << 15) - 1, "s16")), "u16": (wc.U16, _ints(0, (1 << 16) - 1, "u16")),
    "s32": (wc.S32, _ints(-(1 << 31), (1 << 31) - 1, "s32")), "u32": (wc.U32, _ints(0, (1 << 32) - 1, "u32")),
    "s64": (wc.S64, _ints(-(1 << 63), (1 << 63) - 1, "s64")), "u64": (wc.U64, _ints(0, (1 << 64) - 1, "u64")),
    "f32": (wc.F32, _float), "f64": (wc.F64, _float),
}


def _classes(ty: Optional[wc.ValType]) -> tuple:
    """The Python classes wasmtime-py uses for values of `ty` (None: no payload)."""
    found: set = set()
    if ty is None:
        found.add(type(None))
    else:
        ty.add_classes(found)
    return tuple(found)


class _Converters:
    """Builds, for a schema type and the component's type of the same value, the functions that
    lower a Python value to wasmtime-py's and lift wasmtime-py's to a Python value."""

    def __init__(self, component: "Component", types: Dict[str, tuple]):
        self.component = component
        self.types = types
        self.built: Dict[str, Tuple[Convert, Convert]] = {}

    def incompatible(self, where: str, message: str) -> IncompatibleComponent:
        return IncompatibleComponent(
            f"{self.component.path}: {where}: {message}; these bindings were generated from another WIT "
            f"of {self.component.PACKAGE}: use the component they were built with, or build them from "
            f"this component's WIT (pip install ./bindings/python; in a checkout, python "
            f"bindings/python/generate.py)")

    def both(self, schema: Any, ty: Optional[wc.ValType], where: str) -> Tuple[Convert, Convert]:
        if schema is None:
            if ty is not None:
                raise self.incompatible(where, "the component has a value where the WIT has none")
            return _identity, _identity
        if ty is None:
            raise self.incompatible(where, "the component has no value where the WIT has one")
        if isinstance(schema, str):
            cls, check = _PRIMITIVES[schema]
            if not isinstance(ty, cls):
                raise self.incompatible(where, f"expected {schema}, the component has {_kind(ty)}")
            return check, _identity
        tag = schema[0]
        if tag == "type":
            key = schema[1]
            if key not in self.built:
                self.built[key] = self.named(key, ty)
            return self.built[key]
        if tag == "list":
            return self.list(schema[1], ty, where)
        if tag == "option":
            return self.option(schema[1], ty, where)
        if tag == "tuple":
            return self.tuple(schema[1], ty, where)
        if tag in ("own", "borrow"):
            want = wc.OwnType if tag == "own" else wc.BorrowType
            if not isinstance(ty, want):
                raise self.incompatible(where, f"expected {tag}<{schema[1]}>, the component has {_kind(ty)}")
            return self.resource(tag, self.types[schema[1]][1])
        raise self.incompatible(where, f"unsupported type {schema!r}")

    # named types
    def named(self, key: str, ty: wc.ValType) -> Tuple[Convert, Convert]:
        kind = self.types[key][0]
        if kind == "alias":
            return self.both(self.types[key][1], ty, key)
        if kind == "record":
            return self.record(key, ty)
        if kind == "enum":
            return self.enum(key, ty)
        if kind == "variant":
            return self.variant(key, ty)
        if kind == "resource":
            raise self.incompatible(key, "a resource used as a value")
        raise self.incompatible(key, f"unsupported kind {kind}")

    def record(self, key: str, ty: wc.ValType) -> Tuple[Convert, Convert]:
        _, cls, fields = self.types[key]
        if not isinstance(ty, wc.RecordType):
            raise self.incompatible(key, f"expected a record, the component has {_kind(ty)}")
        theirs = ty.fields
        if [n for n, _ in theirs] != [wit for wit, _, _ in fields]:
            raise self.incompatible(key, f"the component's fields are {[n for n, _ in theirs]}, "
                                         f"the WIT's {[wit for wit, _, _ in fields]}")
        convs = [(wit, py, *self.both(schema, t, f"{key}.{wit}")) for (wit, py, schema), (_, t) in zip(fields, theirs)]
        lowers = [(wit, py, low) for wit, py, low, _ in convs]
        lifts = [(wit, None if lift is _identity else lift) for wit, _, _, lift in convs]
        name = cls.__name__

        def lower(value: Any) -> wc.Record:
            if not isinstance(value, cls):
                raise _Bad(f"expected {name}, got {_name(value)}")
            record = wc.Record()
            d = record.__dict__
            py = ""
            try:
                for wit, py, low in lowers:
                    d[wit] = low(getattr(value, py))
            except _Bad as e:
                raise e.at(f".{py}")
            return record

        def lift(record: wc.Record) -> Any:
            d = record.__dict__
            return cls(*[d[wit] if conv is None else conv(d[wit]) for wit, conv in lifts])

        return lower, lift

    def enum(self, key: str, ty: wc.ValType) -> Tuple[Convert, Convert]:
        _, cls, cases = self.types[key]
        if not isinstance(ty, wc.EnumType):
            raise self.incompatible(key, f"expected an enum, the component has {_kind(ty)}")
        if ty.names != [wit for wit, _ in cases]:
            raise self.incompatible(key, f"the component's cases are {ty.names}, the WIT's {[w for w, _ in cases]}")
        to_wit = {member: wit for wit, member in cases}
        from_wit = {wit: member for wit, member in cases}
        valid = ", ".join(f"{cls.__name__}.{m.name}" for _, m in cases)

        def lower(value: Any) -> str:
            try:
                return to_wit[value]
            except (KeyError, TypeError):
                raise _Bad(f"expected {cls.__name__} (one of {valid}), got {value!r}") from None

        return lower, from_wit.__getitem__

    def variant(self, key: str, ty: wc.ValType) -> Tuple[Convert, Convert]:
        _, base, cases = self.types[key]
        if not isinstance(ty, wc.VariantType):
            raise self.incompatible(key, f"expected a variant, the component has {_kind(ty)}")
        theirs = ty.cases
        if [n for n, _ in theirs] != [wit for wit, _, _ in cases]:
            raise self.incompatible(key, f"the component's cases are {[n for n, _ in theirs]}, "
                                         f"the WIT's {[wit for wit, _, _ in cases]}")
        convs = [(wit, cls, *self.both(schema, t, f"{key}.{wit}"), t)
                 for (wit, cls, schema), (_, t) in zip(cases, theirs)]
        by_class = {cls: (wit, low if t is not None else None) for wit, cls, low, _, t in convs}
        by_tag = {wit: (cls, lift if t is not None else None) for wit, cls, _, lift, t in convs}
        valid = ", ".join(f"{base.__name__}.{cls.__name__[len(base.__name__):]}" for _, cls, _, _, _ in convs)
        tagged = ty._tagged()

        def case(value: Any) -> Tuple[str, Optional[Convert]]:
            try:
                return by_class[value.__class__]
            except KeyError:
                raise _Bad(f"expected {base.__name__} (one of {valid}), got {_name(value)}") from None

        if tagged:
            def lower(value: Any) -> Any:
                wit, low = case(value)
                if low is None:
                    return wc.Variant(wit)
                try:
                    return wc.Variant(wit, low(value.value))
                except _Bad as e:
                    raise e.at(".value")

            def lift(value: Any) -> Any:
                cls, conv = by_tag[value.tag]
                return cls() if conv is None else cls(conv(value.payload))

            return lower, lift

        # Untagged: wasmtime-py gives and takes the payload alone; its class tells the case.
        tests = [(wit, _classes(t)) for wit, _, _, _, t in convs]

        def lower_untagged(value: Any) -> Any:
            wit, low = case(value)
            if low is None:
                return None
            try:
                return low(value.value)
            except _Bad as e:
                raise e.at(".value")

        def lift_untagged(value: Any) -> Any:
            for wit, classes in tests:
                if isinstance(value, classes):
                    cls, conv = by_tag[wit]
                    return cls() if conv is None else cls(conv(value))
            raise TypeError(f"no case of {base.__name__} holds {value!r}")

        return lower_untagged, lift_untagged

    # structural types
    def list(self, schema: Any, ty: wc.ValType, where: str) -> Tuple[Convert, Convert]:
        if not isinstance(ty, wc.ListType):
            raise self.incompatible(where, f"expected a list, the component has {_kind(ty)}")
        if schema == "u8":
            def lower_bytes(value: Any) -> Any:
                if isinstance(value, (bytes, bytearray, memoryview)):
                    return bytes(value)
                raise _Bad(f"expected bytes, got {_name(value)}")
            return lower_bytes, _identity
        low, lift = self.both(schema, ty.element, f"{where}[]")

        def lower(value: Any) -> list:
            if not isinstance(value, (list, tuple)):
                raise _Bad(f"expected a list, got {_name(value)}")
            i = 0
            try:
                out = []
                for i, item in enumerate(value):
                    out.append(low(item))
                return out
            except _Bad as e:
                raise e.at(f"[{i}]")

        if lift is _identity:
            return lower, _identity
        return lower, lambda value: [lift(item) for item in value]

    def option(self, schema: Any, ty: wc.ValType, where: str) -> Tuple[Convert, Convert]:
        if not isinstance(ty, wc.OptionType):
            raise self.incompatible(where, f"expected an option, the component has {_kind(ty)}")
        if ty._tagged():
            raise self.incompatible(where, "an option of an option is not supported")
        low, lift = self.both(schema, ty.payload, where)
        return (lambda value: None if value is None else low(value)), (
            _identity if lift is _identity else lambda value: None if value is None else lift(value))

    def tuple(self, schemas: Sequence[Any], ty: wc.ValType, where: str) -> Tuple[Convert, Convert]:
        if not isinstance(ty, wc.TupleType) or len(ty.elements) != len(schemas):
            raise self.incompatible(where, f"expected a tuple of {len(schemas)}, the component has {_kind(ty)}")
        convs = [self.both(s, t, f"{where}.{i}") for i, (s, t) in enumerate(zip(schemas, ty.elements))]

        def lower(value: Any) -> tuple:
            if not isinstance(value, tuple) or len(value) != len(convs):
                raise _Bad(f"expected a tuple of {len(convs)}, got {value!r}")
            return tuple(low(v) for (low, _), v in zip(convs, value))

        return lower, lambda value: tuple(lift(v) for (_, lift), v in zip(convs, value))

    def resource(self, tag: str, cls: type) -> Tuple[Convert, Convert]:
        component = self.component

        def lower(value: Any) -> Any:
            if not isinstance(value, cls):
                raise _Bad(f"expected {cls.__name__}, got {_name(value)}")
            return value._h()  # type: ignore[attr-defined]

        return lower, lambda handle: cls(component, handle)


class _Function:
    """One exported function: its converters, and what its errors become."""

    def __init__(self, component: "Component", func: wc.Func, export: str, schema: Tuple[tuple, Any],
                 converters: _Converters):
        store = component._store
        ty = _CachedFuncType(func.type(store))
        setattr(func, "type", lambda _store: ty)
        params, result = schema
        where = export.split("#", 1)[1]
        self.display = where.split("]", 1)[-1]  # `org.load`, `decide`
        if len(ty.params) != len(params):
            raise converters.incompatible(where, f"the component's function takes {len(ty.params)} values, "
                                                 f"the WIT's {len(params)}")
        self._store = store
        self._func = func
        self._names = [name for name, _ in ty.params]
        self._lowers = [converters.both(s, t, f"{where}({name})")[0] for s, (name, t) in zip(params, ty.params)]
        # Resources handed over (own<...> parameters) are the component's after the call.
        self._owned = [i for i, s in enumerate(params) if isinstance(s, tuple) and s[0] == "own"]
        self._component = component
        self._error: Optional[Callable[[Any], Exception]] = None
        if isinstance(result, tuple) and result[0] == "result":
            if not isinstance(ty.result, wc.ResultType):
                raise converters.incompatible(where, "the component's function returns no result<...>")
            self._result = self._results(result, ty.result, converters, where)
        else:
            self._result = converters.both(result, ty.result, f"{where} result")[1]

    def _results(self, schema: tuple, ty: wc.ResultType, converters: _Converters, where: str) -> Convert:
        _, ok_schema, err_schema = schema
        lift_ok = converters.both(ok_schema, ty.ok, f"{where} result")[1]
        lift_err = converters.both(err_schema, ty.err, f"{where} error")[1]
        self._error = self._error_for(err_schema)
        if ty._tagged():
            def result(value: Any) -> Any:
                if value.tag == "ok":
                    return lift_ok(value.payload)
                raise self._error(lift_err(value.payload))  # type: ignore[misc]
            return result
        ok_classes = _classes(ty.ok)

        def untagged(value: Any) -> Any:
            if isinstance(value, ok_classes):
                return lift_ok(value)
            raise self._error(lift_err(value))  # type: ignore[misc]
        return untagged

    def _error_for(self, schema: Any) -> Callable[[Any], Exception]:
        """What an error value becomes: an exception whose message lists every item in it."""
        many = isinstance(schema, tuple) and schema[0] == "list"
        item = schema[1] if many else schema
        key = item[1] if isinstance(item, tuple) and item[0] == "type" else ""
        cls = _ERROR_CLASSES.get(key.rsplit(".", 1)[-1])
        component = self._component

        def error(payload: Any) -> Exception:
            items = payload if many else [payload]
            if cls is ProblemError:
                return ProblemError(items, payload)
            render = component._renderers.get(key)
            lines = [render(d) if render else str(getattr(d, "message", d)) for d in items]
            if cls is DiagnosticError:
                return DiagnosticError(items, lines, payload)
            return TurnstileError(f"{self.display}: " + "\n".join(lines), payload)

        return error

    def __call__(self, *args: Any) -> Any:
        if len(args) != len(self._lowers):
            raise TypeError(f"{self.display} takes {len(self._lowers)} arguments ({', '.join(self._names)}), "
                            f"got {len(args)}")
        values = []
        try:
            for i, (lower, arg) in enumerate(zip(self._lowers, args)):
                values.append(lower(arg))
        except _Bad as e:
            raise TypeError(f"{self.display}: {self._names[i]}{e.path}: {e.message}") from None
        try:
            raw = self._func(self._store, *values)
        finally:
            for i in self._owned:
                args[i]._handle = None
        return self._result(raw)


# ------------------------------------------------------------------ the component

class Component:
    """A component file compiled and instantiated once, its exports and their functions checked
    against the schema (a subclass per WIT world says which it must export).

    Not thread-safe: one per thread.
    """

    SCHEMA: ClassVar[Dict[str, Any]]
    PACKAGE: ClassVar[str]
    WORLD: ClassVar[str]
    EXPORTS: ClassVar[Tuple[str, ...]]

    def __init__(self, path: str):
        self.path = str(path)
        engine = wasmtime.Engine()
        self._store = wasmtime.Store(engine)
        component = wc.Component.from_file(engine, self.path)
        instance = wc.Linker(engine).instantiate(self._store, component)
        converters = _Converters(self, self.SCHEMA["types"])
        self._functions: Dict[str, _Function] = {}
        self._renderers: Dict[str, Callable[[Any], str]] = {}
        for interface in self.EXPORTS:
            index = instance.get_export_index(self._store, interface)
            if index is None:
                raise converters.incompatible(
                    interface, f"the component doesn't export it (a `{self.WORLD}` component exports "
                               f"{', '.join(self.EXPORTS)})")
            for name, schema in self.SCHEMA["functions"].get(interface, {}).items():
                export = instance.get_export_index(self._store, name, index)
                func = instance.get_func(self._store, export) if export else None
                if func is None:
                    raise converters.incompatible(f"{interface}#{name}", "the component doesn't export it")
                key = f"{interface}#{name}"
                self._functions[key] = _Function(self, func, key, schema, converters)
                # `render-X: func(x: X) -> string` writes an X as text: error messages use it.
                params, result = schema
                if (name.startswith("render-") and result == "string" and len(params) == 1
                        and params[0] == ("type", params[0][1]) and params[0][1].endswith("." + name[7:])):
                    self._renderers[params[0][1]] = self._functions[key]
        self._interfaces()

    def _interfaces(self) -> None:
        """Sets the interface attributes (generated)."""

    def call(self, export: str, *args: Any) -> Any:
        """Calls the exported function `export` (`interface#name`) with typed values."""
        return self._functions[export](*args)
