#!/usr/bin/env python3
"""Writes src/turnstile_policy/_generated.py from the WIT: the typed Python API.

    python bindings/python/generate.py            # from wit/ of this repository
    python bindings/python/generate.py --check    # exit 1 if the file is not what the WIT gives

Every record becomes a dataclass (snake_case fields, `__slots__`, so a
misspelt field is an AttributeError rather than a silently ignored value),
every enum a `str` Enum, every variant a base class with one small dataclass
per case, every resource a class whose methods call the component, every exported
interface with functions a class of them (`policy.engine`, `policy.scenario`,
`policy.listing`), and every world a component class that loads a component
of that world and checks it (`PolicyComponent`, `FormatsComponent`). An
interface exported by several worlds (`types`, by both) is written once, so
a value one component returns is a value the other takes. The WIT's `///`
doc comments become the docstrings. A schema at the end of the file tells
the runtime (`_runtime.py`) how each value crosses the boundary; nothing is
restated by hand, so a new event kind, field, code or method is one run of
this script away.

The output is not committed: it is written when the package is built
(setup.py, into the package being built) and by scripts/test-bindings (into
the source package, for the tests); `tests/test_generated.py` fails, naming
this command, when the source package's copy no longer matches the WIT.
Worlds in `SKIP_WORLDS` get no class. Standard library only, so it runs
anywhere Python does.
"""

from __future__ import annotations

import argparse
import keyword
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUTPUT = HERE / "src" / "turnstile_policy" / "_generated.py"

# `all` (every interface, for native hosts that bind both components with one family of types) is
# no component of its own: no class loads one.
SKIP_WORLDS = {"all"}

# Names the runtime's own classes use: a WIT method with one of these names would hide them.
RESERVED_METHODS = {"close"}

PRIMITIVES = {
    "bool": "bool", "s8": "int", "s16": "int", "s32": "int", "s64": "int",
    "u8": "int", "u16": "int", "u32": "int", "u64": "int",
    "f32": "float", "f64": "float", "char": "str", "string": "str",
}

# ------------------------------------------------------------------ reading WIT

Type = Union[str, tuple]  # a primitive name, or ("list", t), ("option", t), ("result", ok, err), ("tuple", ts),
#                           ("own", name), ("borrow", name), ("named", name)


@dataclass
class Param:
    name: str
    type: Type


@dataclass
class Func:
    name: str  # the WIT name (`decide`), or "" for a constructor
    kind: str  # "free", "method", "static" or "constructor"
    params: List[Param]
    result: Optional[Type]
    docs: str


@dataclass
class TypeDef:
    kind: str  # "alias", "record", "enum", "variant", "flags", "resource"
    name: str
    docs: str
    target: Optional[Type] = None  # alias
    fields: List[Tuple[str, Type, str]] = field(default_factory=list)  # record: (name, type, docs)
    cases: List[Tuple[str, Optional[Type], str]] = field(default_factory=list)  # variant/enum/flags: (name, payload, docs)
    funcs: List[Func] = field(default_factory=list)  # resource


@dataclass
class Interface:
    name: str
    docs: str
    types: Dict[str, TypeDef] = field(default_factory=dict)
    uses: Dict[str, Tuple[str, str]] = field(default_factory=dict)  # local name -> (interface, name)
    funcs: List[Func] = field(default_factory=list)


@dataclass
class World:
    name: str
    docs: str
    exports: List[str]  # interface names, in order


class WitError(Exception):
    pass


TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<doc>///[^\n]*)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<arrow>->)
  | (?P<id>%?[A-Za-z][A-Za-z0-9-]*)
  | (?P<number>[0-9][0-9A-Za-z.+-]*)
  | (?P<punct>[{}()<>,;:=.@/*_])
""", re.S | re.X)


class Parser:
    """A reader for the part of WIT this package uses; anything else is an error naming it."""

    def __init__(self, text: str, path: str):
        self.path = path
        self.tokens: List[Tuple[str, str, int]] = []  # (kind, text, line)
        pos, line = 0, 1
        while pos < len(text):
            m = TOKEN.match(text, pos)
            if not m:
                raise WitError(f"{path}:{line}: unexpected `{text[pos]}`")
            kind = m.lastgroup or ""
            if kind == "doc":
                self.tokens.append(("doc", m.group()[3:], line))
            elif kind not in ("space", "comment"):
                self.tokens.append((kind, m.group(), line))
            line += m.group().count("\n")
            pos = m.end()
        self.i = 0

    # tokens
    def peek(self, ahead: int = 0) -> Tuple[str, str, int]:
        j = self.i
        seen = -1
        while j < len(self.tokens):
            if self.tokens[j][0] != "doc":
                seen += 1
                if seen == ahead:
                    return self.tokens[j]
            j += 1
        return ("eof", "", self.tokens[-1][2] if self.tokens else 1)

    def docs(self) -> str:
        """The doc comment here; blocks of it apart in the file stay apart paragraphs."""
        lines: List[str] = []
        last = None
        while self.i < len(self.tokens) and self.tokens[self.i][0] == "doc":
            _, text, line = self.tokens[self.i]
            if last is not None and line > last + 1 and lines and lines[-1]:
                lines.append("")
            lines.append(text[1:] if text.startswith(" ") else text)
            last = line
            self.i += 1
        return "\n".join(lines).strip("\n")

    def next(self) -> Tuple[str, str, int]:
        self.docs()
        token = self.peek()
        self.i += 1
        return token

    def fail(self, what: str) -> WitError:
        kind, text, line = self.peek()
        return WitError(f"{self.path}:{line}: expected {what}, found `{text or 'the end'}`")

    def expect(self, text: str) -> None:
        if self.peek()[1] != text:
            raise self.fail(f"`{text}`")
        self.next()

    def accept(self, text: str) -> bool:
        if self.peek()[1] == text:
            self.next()
            return True
        return False

    def ident(self) -> str:
        kind, text, _ = self.peek()
        if kind != "id":
            raise self.fail("a name")
        self.next()
        return text.lstrip("%")

    # items
    def file(self) -> Tuple[str, Dict[str, Interface], Dict[str, World]]:
        package = ""
        interfaces: Dict[str, Interface] = {}
        worlds: Dict[str, World] = {}
        while True:
            docs = self.docs()
            kind, text, _ = self.peek()
            if kind == "eof":
                break
            if text == "package":
                self.next()
                parts = []
                while self.peek()[1] != ";":
                    parts.append(self.next()[1])
                self.expect(";")
                package = "".join(parts)
            elif text == "interface":
                self.next()
                iface = self.interface(self.ident(), docs)
                interfaces[iface.name] = iface
            elif text == "world":
                self.next()
                name = self.ident()
                if name in worlds:
                    raise WitError(f"{self.path}: two worlds called `{name}`")
                worlds[name] = World(name, docs, self.world())
            else:
                raise self.fail("`package`, `interface` or `world`")
        return package, interfaces, worlds

    def world(self) -> List[str]:
        exports = []
        self.expect("{")
        while not self.accept("}"):
            word = self.next()[1]
            if word in ("export", "import"):
                name = self.ident()
                if self.peek()[1] != ";":
                    raise self.fail("`;` (only named interfaces are supported in a world)")
                self.expect(";")
                if word == "export":
                    exports.append(name)
            elif word == "use":
                while not self.accept(";"):
                    self.next()
            else:
                raise WitError(f"{self.path}: `{word}` in a world is not supported by generate.py")
        return exports

    def interface(self, name: str, docs: str) -> Interface:
        iface = Interface(name, docs)
        self.expect("{")
        while True:
            docs = self.docs()
            if self.accept("}"):
                return iface
            word = self.peek()[1]
            if word == "use":
                self.next()
                source = self.ident()
                self.expect(".")
                self.expect("{")
                while True:
                    original = self.ident()
                    local = self.ident() if self.accept("as") else original
                    iface.uses[local] = (source, original)
                    if not self.accept(","):
                        break
                self.expect("}")
                self.expect(";")
            elif word == "type":
                self.next()
                alias = self.ident()
                self.expect("=")
                iface.types[alias] = TypeDef("alias", alias, docs, target=self.type())
                self.expect(";")
            elif word == "record":
                self.next()
                n = self.ident()
                iface.types[n] = TypeDef("record", n, docs, fields=self.fields())
            elif word in ("enum", "flags"):
                self.next()
                n = self.ident()
                iface.types[n] = TypeDef(word, n, docs, cases=self.cases(payloads=False))
            elif word == "variant":
                self.next()
                n = self.ident()
                iface.types[n] = TypeDef("variant", n, docs, cases=self.cases(payloads=True))
            elif word == "resource":
                self.next()
                n = self.ident()
                iface.types[n] = TypeDef("resource", n, docs, funcs=self.resource())
            elif self.peek()[0] == "id" and self.peek(1)[1] == ":":
                iface.funcs.append(self.func(self.ident(), docs, "free"))
            else:
                raise self.fail("a type, a function or `}`")

    def fields(self) -> List[Tuple[str, Type, str]]:
        out: List[Tuple[str, Type, str]] = []
        self.expect("{")
        while True:
            docs = self.docs()
            if self.accept("}"):
                return out
            name = self.ident()
            self.expect(":")
            out.append((name, self.type(), docs))
            if not self.accept(","):
                docs = self.docs()
                self.expect("}")
                return out

    def cases(self, payloads: bool) -> List[Tuple[str, Optional[Type], str]]:
        out: List[Tuple[str, Optional[Type], str]] = []
        self.expect("{")
        while True:
            docs = self.docs()
            if self.accept("}"):
                return out
            name = self.ident()
            payload = None
            if payloads and self.accept("("):
                payload = self.type()
                self.expect(")")
            out.append((name, payload, docs))
            if not self.accept(","):
                self.docs()
                self.expect("}")
                return out

    def resource(self) -> List[Func]:
        funcs: List[Func] = []
        if self.accept(";"):
            return funcs
        self.expect("{")
        while True:
            docs = self.docs()
            if self.accept("}"):
                return funcs
            if self.accept("constructor"):
                self.expect("(")
                funcs.append(Func("", "constructor", self.params(), None, docs))
                self.expect(";")
            else:
                funcs.append(self.func(self.ident(), docs, "method"))

    def func(self, name: str, docs: str, kind: str) -> Func:
        self.expect(":")
        if self.accept("static"):
            kind = "static"
        if self.peek()[1] == "async":
            raise self.fail("`func` (async functions are not supported by generate.py)")
        self.expect("func")
        self.expect("(")
        params = self.params()
        result = None
        if self.peek()[0] == "arrow":
            self.next()
            result = self.type()
        self.expect(";")
        return Func(name, kind, params, result, docs)

    def params(self) -> List[Param]:
        out = []
        while not self.accept(")"):
            name = self.ident()
            self.expect(":")
            out.append(Param(name, self.type()))
            if not self.accept(","):
                self.expect(")")
                break
        return out

    def type(self) -> Type:
        name = self.ident()
        if name in PRIMITIVES:
            return name
        if name in ("list", "option", "borrow", "own"):
            self.expect("<")
            inner = self.ident() if name in ("borrow", "own") else self.type()
            self.expect(">")
            return (name, inner)
        if name == "tuple":
            self.expect("<")
            items = [self.type()]
            while self.accept(","):
                items.append(self.type())
            self.expect(">")
            return ("tuple", tuple(items))
        if name == "result":
            ok: Optional[Type] = None
            err: Optional[Type] = None
            if self.accept("<"):
                if not self.accept("_"):
                    ok = self.type()
                if self.accept(","):
                    err = self.type()
                self.expect(">")
            return ("result", ok, err)
        if name in ("future", "stream", "error-context"):
            raise WitError(f"{self.path}: `{name}` is not supported by generate.py")
        return ("named", name)


def read_wit(path: Path) -> Tuple[str, Dict[str, Interface], Dict[str, World], List[Path]]:
    """The package, its interfaces and its worlds (by name, in file order), and the files read."""
    files = sorted(path.glob("*.wit")) if path.is_dir() else [path]
    if not files:
        raise WitError(f"{path}: no .wit files")
    package, interfaces, worlds = "", {}, {}
    for f in files:
        p, i, w = Parser(f.read_text(encoding="utf-8"), str(f)).file()
        if p and package and p != package:
            raise WitError(f"{f}: package {p}, but {package} elsewhere")
        package = package or p
        for name in set(i) & set(interfaces):
            raise WitError(f"{f}: interface `{name}` is defined in another file too")
        for name in set(w) & set(worlds):
            raise WitError(f"{f}: world `{name}` is defined in another file too")
        interfaces.update(i)
        worlds.update(w)
    if not package:
        raise WitError(f"{path}: no `package` declaration")
    if any("/" in e for world in worlds.values() for e in world.exports):
        raise WitError("exports of other packages are not supported by generate.py")
    return package, interfaces, worlds, files


# ------------------------------------------------------------------ naming

def snake(name: str) -> str:
    out = name.replace("-", "_")
    return out + "_" if keyword.iskeyword(out) or out in ("self",) else out


def camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("-"))


def case_attribute(name: str) -> str:
    """A variant case's name as an attribute of the variant's class (`EventKind.Sync`, `Shape.None_`)."""
    out = camel(name)
    return out + "_" if keyword.iskeyword(out) else out


def upper(name: str) -> str:
    out = name.replace("-", "_").upper()
    return out + "_" if keyword.iskeyword(out) else out


# ------------------------------------------------------------------ writing Python

# Error values with an exception class of their own (as _runtime._ERROR_CLASSES).
ERROR_CLASSES = {"problem": "ProblemError", "diagnostic": "DiagnosticError"}


def wrap(text: str, width: int = 92) -> str:
    """Text this script adds to a docstring, wrapped (the WIT's own lines are kept as written)."""
    return "\n".join(textwrap.fill(p, width) for p in text.split("\n"))


def names_tuple(names: List[str], indent: str) -> str:
    """A tuple of names as Python, on several lines when long."""
    one = "(" + ", ".join(repr(n) for n in names) + ("," if len(names) == 1 else "") + ")"
    if len(indent) + len(one) <= 100:
        return one
    lines, line = [], ""
    for n in names:
        item = repr(n) + ", "
        if line and len(indent) + 4 + len(line) + len(item) > 100:
            lines.append(line.rstrip())
            line = ""
        line += item
    lines.append(line.rstrip())
    return "(\n" + "".join(f"{indent}    {l}\n" for l in lines) + f"{indent})"


class Writer:
    def __init__(self, package: str, interfaces: Dict[str, Interface], worlds: Dict[str, World]):
        self.package = package
        self.namespace, _, self.version = package.partition("@")
        self.interfaces = interfaces
        self.worlds = [w for name, w in worlds.items() if name not in SKIP_WORLDS]
        if not self.worlds:
            raise WitError("no world to generate a component class for")
        # Every interface a world exports, once, in the order the worlds first export them.
        self.wrapped: List[str] = []
        for world in self.worlds:
            for name in world.exports:
                if name not in interfaces:
                    raise WitError(f"world `{world.name}` exports `{name}`, which is not defined")
                if name not in self.wrapped:
                    self.wrapped.append(name)
        self.out: List[str] = []
        self.classes: Dict[str, str] = {}  # qualified WIT name -> Python class name
        self.public: List[str] = []
        self.schema_types: List[str] = []
        self.schema_funcs: Dict[str, List[str]] = {}

    def export_name(self, iface: str) -> str:
        return f"{self.namespace}/{iface}@{self.version}" if self.version else f"{self.namespace}/{iface}"

    def resolve(self, iface: str, name: str) -> Tuple[str, TypeDef]:
        """The defining interface and definition of `name` as seen from `iface`."""
        seen = set()
        while (iface, name) not in seen:
            seen.add((iface, name))
            i = self.interfaces.get(iface)
            if i is None:
                raise WitError(f"unknown interface `{iface}`")
            if name in i.types:
                return iface, i.types[name]
            if name in i.uses:
                iface, name = i.uses[name]
                continue
            raise WitError(f"interface `{iface}`: unknown type `{name}`")
        raise WitError(f"`use` cycle at {iface}.{name}")

    def key(self, iface: str, name: str) -> str:
        defining, td = self.resolve(iface, name)
        return f"{defining}.{td.name}"

    # type expressions
    def annotation(self, iface: str, t: Optional[Type]) -> str:
        if t is None:
            return "None"
        if isinstance(t, str):
            return PRIMITIVES[t]
        tag = t[0]
        if tag == "list":
            return "bytes" if t[1] == "u8" else f"List[{self.annotation(iface, t[1])}]"
        if tag == "option":
            return f"Optional[{self.annotation(iface, t[1])}]"
        if tag == "tuple":
            return f"Tuple[{', '.join(self.annotation(iface, x) for x in t[1])}]"
        if tag in ("own", "borrow", "named"):
            return self.classes[self.key(iface, t[1])]
        if tag == "result":
            return self.annotation(iface, t[1])
        raise WitError(f"unsupported type {t!r}")

    def schema(self, iface: str, t: Optional[Type]) -> str:
        if t is None:
            return "None"
        if isinstance(t, str):
            return repr(t)
        tag = t[0]
        if tag in ("list", "option"):
            return f"({tag!r}, {self.schema(iface, t[1])})"
        if tag == "tuple":
            return f"('tuple', ({''.join(self.schema(iface, x) + ', ' for x in t[1])}))"
        if tag == "result":
            return f"('result', {self.schema(iface, t[1])}, {self.schema(iface, t[2])})"
        if tag in ("own", "borrow"):
            return f"({tag!r}, {self.key(iface, t[1])!r})"
        if tag == "named":
            key = self.key(iface, t[1])
            _, td = self.resolve(iface, t[1])
            return f"('own', {key!r})" if td.kind == "resource" else f"('type', {key!r})"
        raise WitError(f"unsupported type {t!r}")

    # text
    def emit(self, line: str = "") -> None:
        self.out.append(line)

    def docstring(self, text: str, indent: str, fallback: str = "") -> None:
        text = text or fallback
        if not text:
            return
        text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        lines = text.split("\n")
        if len(lines) == 1:
            self.emit(f'{indent}"""{lines[0]}"""')
        else:
            self.emit(f'{indent}"""{lines[0]}')
            for line in lines[1:]:
                self.emit(f"{indent}{line}".rstrip())
            self.emit(f'{indent}"""')

    # the module
    def write(self, sources: List[str]) -> str:
        for iface in self.wrapped:
            self.name_types(iface)
        self.emit(f"# Generated by bindings/python/generate.py from {', '.join(sources)} ({self.package}): do not edit.")
        self.emit("# Regenerate with: python bindings/python/generate.py")
        self.emit('"""The WIT\'s types and functions as typed Python (see `turnstile_policy`)."""')
        self.emit()
        self.emit("from __future__ import annotations")
        self.emit()
        self.emit("from dataclasses import dataclass")
        self.emit("from typing import Any, ClassVar, Dict, List, Optional, Tuple, Type")
        self.emit()
        self.emit("from ._runtime import Component, Interface, Resource, Statics, Variant, WitEnum")
        self.emit()
        self.emit(f"PACKAGE = {self.package!r}")
        self.emit('"""The WIT package these bindings were generated from."""')
        for iface in self.wrapped:
            self.write_interface(self.interfaces[iface])
        self.write_worlds()
        self.write_schema()
        self.emit()
        self.emit("__all__ = [")
        for name in ["PACKAGE", *self.public]:
            self.emit(f"    {name!r},")
        self.emit("]")
        return "\n".join(self.out) + "\n"

    def name_types(self, iface: str) -> None:
        """Python class names for the types an interface defines and the ones it uses."""
        for name, td in self.interfaces[iface].types.items():
            key = f"{iface}.{name}"
            py = camel(name)
            if py in self.classes.values() and self.classes.get(key) != py:
                raise WitError(f"two WIT types are called {py} in Python: give one another name")
            self.classes[key] = py
        for local in self.interfaces[iface].uses:
            defining, td = self.resolve(iface, local)
            if f"{defining}.{td.name}" not in self.classes:
                self.name_types(defining)

    def write_interface(self, iface: Interface) -> None:
        self.emit()
        self.emit()
        self.emit(f"# {'-' * 60} interface {iface.name}")
        if not self.callable(iface) and iface.docs:
            # No class to carry the interface's doc comment: it heads its section.
            self.emit("#")
            for line in iface.docs.split("\n"):
                self.emit(f"# {line}".rstrip())
        for td in iface.types.values():
            getattr(self, f"write_{td.kind}")(iface.name, td)
        for td in iface.types.values():
            if td.kind == "resource":
                self.write_statics(iface.name, td)
        if self.callable(iface):
            self.write_functions(iface)

    @staticmethod
    def statics(iface: Interface) -> List[TypeDef]:
        """The resources of `iface` that have a constructor or static functions."""
        return [td for td in iface.types.values() if td.kind == "resource" and any(f.kind != "method" for f in td.funcs)]

    def callable(self, iface: Interface) -> bool:
        """Whether `iface` has anything to call: functions, or resources to make (else: only types, no class)."""
        return bool(iface.funcs or self.statics(iface))

    def write_alias(self, iface: str, td: TypeDef) -> None:
        py = self.classes[f"{iface}.{td.name}"]
        self.emit()
        self.emit(f"{py} = {self.annotation(iface, td.target)}")
        self.docstring(td.docs, "")
        self.public.append(py)
        self.schema_types.append(f"    {iface + '.' + td.name!r}: ('alias', {self.schema(iface, td.target)}),")

    def write_enum(self, iface: str, td: TypeDef) -> None:
        py = self.classes[f"{iface}.{td.name}"]
        self.emit()
        self.emit()
        self.emit(f"class {py}(WitEnum):")
        self.docstring(td.docs, "    ", f"The WIT enum `{td.name}`.")
        self.emit()
        for name, _, docs in td.cases:
            self.emit(f"    {upper(name)} = {snake(name).rstrip('_')!r}")
            self.docstring(docs, "    ")
        self.public.append(py)
        cases = ", ".join(f"({name!r}, {py}.{upper(name)})" for name, _, _ in td.cases)
        self.schema_types.append(f"    {iface + '.' + td.name!r}: ('enum', {py}, ({cases},)),")

    def write_flags(self, iface: str, td: TypeDef) -> None:
        raise WitError(f"flags `{td.name}`: not supported by generate.py yet")

    def write_record(self, iface: str, td: TypeDef) -> None:
        py = self.classes[f"{iface}.{td.name}"]
        self.emit()
        self.emit()
        self.emit("@dataclass")
        self.emit(f"class {py}:")
        self.docstring(td.docs, "    ", f"The WIT record `{td.name}`.")
        self.emit()
        self.emit(f"    __slots__ = {names_tuple([snake(n) for n, _, _ in td.fields], '    ')}")
        for name, t, docs in td.fields:
            self.emit(f"    {snake(name)}: {self.annotation(iface, t)}")
            self.docstring(docs, "    ")
        self.public.append(py)
        fields = "".join(f"({n!r}, {snake(n)!r}, {self.schema(iface, t)}), " for n, t, _ in td.fields)
        self.schema_types.append(f"    {iface + '.' + td.name!r}: ('record', {py}, ({fields.rstrip()})),")

    def write_variant(self, iface: str, td: TypeDef) -> None:
        py = self.classes[f"{iface}.{td.name}"]
        self.emit()
        self.emit()
        self.emit(f"class {py}(Variant):")
        cases_text = ", ".join(f"`{py}.{case_attribute(n)}`" for n, _, _ in td.cases)
        self.docstring((td.docs + "\n\n" if td.docs else "") + wrap(f"One of: {cases_text}."), "    ")
        self.emit()
        self.emit("    __slots__ = ()")
        for name, _, _ in td.cases:
            self.emit(f"    {case_attribute(name)}: ClassVar[Type[{py}{camel(name)}]]")
        cases = []
        for name, payload, docs in td.cases:
            case = f"{py}{camel(name)}"
            self.emit()
            self.emit()
            self.emit("@dataclass")
            self.emit(f"class {case}({py}):")
            signature = f"{name}({self.annotation(iface, payload)})" if payload is not None else name
            self.docstring(docs, "    ", f"`{py}.{case_attribute(name)}`: the case `{signature}` of `{td.name}`.")
            self.emit()
            if payload is None:
                self.emit("    __slots__ = ()")
            else:
                self.emit("    __slots__ = ('value',)")
            self.emit(f"    tag: ClassVar[str] = {snake(name).rstrip('_')!r}")
            self.emit('    """The case\'s name."""')
            if payload is not None:
                self.emit(f"    value: {self.annotation(iface, payload)}")
            cases.append(f"({name!r}, {case}, {self.schema(iface, payload)})")
            self.public.append(case)
        self.emit()
        self.emit()
        for name, _, _ in td.cases:
            self.emit(f"{py}.{case_attribute(name)} = {py}{camel(name)}")
        self.public.append(py)
        self.schema_types.append(f"    {iface + '.' + td.name!r}: ('variant', {py}, ({', '.join(cases)},)),")

    def write_resource(self, iface: str, td: TypeDef) -> None:
        py = self.classes[f"{iface}.{td.name}"]
        self.emit()
        self.emit()
        self.emit(f"class {py}(Resource):")
        makers = ", ".join(f"`{m}(...)`" for m in self.makers(iface, td.name))
        docs = td.docs or f"The WIT resource `{td.name}`."
        docs += "\n\n" + wrap((f"Made by {makers}. " if makers else "") +
                              "Close it (or use `with`) to free it in the component.")
        self.docstring(docs, "    ")
        self.emit()
        self.emit("    __slots__ = ()")
        for f in td.funcs:
            if f.kind != "method":
                continue
            if snake(f.name) in RESERVED_METHODS:
                raise WitError(f"resource `{td.name}`: a method `{f.name}` would hide Resource.{snake(f.name)}")
            self.write_function(iface, f, f"[method]{td.name}.{f.name}", "self._component", self_arg=True)
        self.public.append(py)
        self.schema_types.append(f"    {iface + '.' + td.name!r}: ('resource', {py}),")

    def makers(self, iface: str, resource: str) -> List[str]:
        """How Python code gets a `resource`: the functions of `iface` that return one."""
        def returns(t: Optional[Type]) -> bool:
            if isinstance(t, tuple) and t[0] == "result":
                t = t[1]
            return isinstance(t, tuple) and t[0] in ("named", "own") and self.key(iface, t[1]) == f"{iface}.{resource}"

        out = []
        for td in self.interfaces[iface].types.values():
            py = self.classes[f"{iface}.{td.name}"]
            for f in td.funcs:
                if f.kind == "constructor" and td.name == resource:
                    out.append(f"policy.{iface}.{py}")
                elif f.kind == "static" and returns(f.result):
                    out.append(f"policy.{iface}.{py}.{snake(f.name)}")
        out += [f"policy.{iface}.{snake(f.name)}" for f in self.interfaces[iface].funcs if returns(f.result)]
        return out

    def write_statics(self, iface: str, td: TypeDef) -> None:
        statics = [f for f in td.funcs if f.kind != "method"]
        if not statics:
            return
        py = self.classes[f"{iface}.{td.name}"]
        self.emit()
        self.emit()
        self.emit(f"class {py}Statics(Statics):")
        self.docstring(f"`policy.{iface}.{py}`: the constructor and static functions of `{py}`.", "    ")
        self.emit()
        self.emit("    __slots__ = ()")
        for f in statics:
            if f.kind == "constructor":
                self.write_function(iface, Func("__call__", "constructor", f.params, ("own", td.name), f.docs),
                                    f"[constructor]{td.name}", "self._component")
            else:
                self.write_function(iface, f, f"[static]{td.name}.{f.name}", "self._component")

    def write_function(self, iface: str, f: Func, export: str, component: str, self_arg: bool = False) -> None:
        params = [(snake(p.name), self.annotation(iface, p.type)) for p in f.params]
        signature = ", ".join(["self"] + [f"{n}: {t}" for n, t in params])
        result = self.annotation(iface, f.result)
        name = f.name if f.name == "__call__" else snake(f.name)
        self.emit()
        self.emit(f"    def {name}({signature}) -> {result}:")
        docs = f.docs
        if isinstance(f.result, tuple) and f.result[0] == "result" and f.result[2] is not None:
            err = f.result[2]
            many = isinstance(err, tuple) and err[0] == "list"
            item = err[1] if many else err
            name = self.resolve(iface, item[1])[1].name if isinstance(item, tuple) and item[0] == "named" else ""
            cls = ERROR_CLASSES.get(name, "TurnstileError")
            what = self.annotation(iface, err)
            docs = (docs + "\n\n" if docs else "") + wrap(
                f"Raises `{cls}` (its `payload` the `{what}`) when the component refuses.")
        self.docstring(docs, "        ", f"The WIT function `{f.name or 'constructor'}`.")
        call_args = ", ".join(([ "self"] if self_arg else []) + [n for n, _ in params])
        full = f"{self.export_name(iface)}#{export}"
        self.emit(f"        return {component}.call({full!r}{', ' + call_args if call_args else ''})")
        self.schema_funcs.setdefault(self.export_name(iface), []).append(
            f"        {export!r}: (({''.join(self.schema(iface, p.type) + ', ' for p in self.self_params(iface, f, export))}), "
            f"{self.schema(iface, f.result)}),")

    def self_params(self, iface: str, f: Func, export: str) -> List[Param]:
        if export.startswith("[method]"):
            resource = export[len("[method]"):].split(".")[0]
            return [Param("self", ("borrow", resource))] + f.params
        return f.params

    def write_functions(self, iface: Interface) -> None:
        py = f"{camel(iface.name)}Interface"
        self.emit()
        self.emit()
        self.emit(f"class {py}(Interface):")
        docs = (iface.docs + "\n\n" if iface.docs else "") + \
            f"`policy.{iface.name}`: the component's `{self.export_name(iface.name)}`."
        self.docstring(docs, "    ")
        self.emit()
        self.emit(f"    NAME: ClassVar[str] = {self.export_name(iface.name)!r}")
        statics = self.statics(iface)
        for td in statics:
            self.emit(f"    {self.classes[iface.name + '.' + td.name]}: {self.classes[iface.name + '.' + td.name]}Statics")
        if statics:
            self.emit()
            self.emit("    def __init__(self, component: Component):")
            self.emit("        super().__init__(component)")
            for td in statics:
                cls = self.classes[iface.name + "." + td.name]
                self.emit(f"        self.{cls} = {cls}Statics(component)")
        for f in iface.funcs:
            self.write_function(iface.name, f, f.name, "self._component")
        self.public.append(py)
        self.public.extend(f"{self.classes[iface.name + '.' + td.name]}Statics" for td in statics)

    def world_class(self, world: World) -> str:
        return f"{camel(world.name)}Component"

    def write_worlds(self) -> None:
        self.emit()
        self.emit()
        self.emit(f"# {'-' * 60} the components")
        taken = set(self.classes.values())
        for world in self.worlds:
            py = self.world_class(world)
            if py in taken:
                raise WitError(f"world `{world.name}`: its class {py} would have the name of a WIT type")
            calls = [name for name in world.exports if self.callable(self.interfaces[name])]
            self.emit()
            self.emit()
            self.emit(f"class {py}(Component):")
            docs = (world.docs + "\n\n" if world.docs else "") + wrap(
                f"A component of world `{world.name}`, loaded and checked: it must export " +
                ", ".join(f"`{self.export_name(name)}`" for name in world.exports) + ". " +
                (("Its interfaces are attributes: " + ", ".join(f"`{snake(name)}`" for name in calls) + ".")
                 if calls else "It has nothing to call."))
            self.docstring(docs, "    ")
            self.emit()
            self.emit(f"    WORLD: ClassVar[str] = {world.name!r}")
            self.emit(f"    EXPORTS: ClassVar[Tuple[str, ...]] = "
                      f"{names_tuple([self.export_name(name) for name in world.exports], '    ')}")
            for name in calls:
                self.emit(f"    {snake(name)}: {camel(name)}Interface")
                self.docstring(self.interfaces[name].docs, "    ")
            self.emit()
            self.emit("    def _interfaces(self) -> None:")
            for name in calls:
                self.emit(f"        self.{snake(name)} = {camel(name)}Interface(self)")
            if not calls:
                self.emit("        pass")
            self.public.append(py)

    def write_schema(self) -> None:
        self.emit()
        self.emit()
        self.emit("# How each value crosses the boundary (read by _runtime.py): WIT names, Python names, types.")
        self.emit("SCHEMA: Dict[str, Any] = {")
        self.emit("    'types': {")
        for line in self.schema_types:
            self.emit("    " + line)
        self.emit("    },")
        self.emit("    'functions': {")
        for iface, lines in self.schema_funcs.items():
            self.emit(f"        {iface!r}: {{")
            for line in lines:
                self.emit("    " + line)
            self.emit("        },")
        self.emit("    },")
        self.emit("}")
        for world in self.worlds:
            self.emit(f"{self.world_class(world)}.SCHEMA = SCHEMA")
            self.emit(f"{self.world_class(world)}.PACKAGE = PACKAGE")


def generate(wit: Path) -> str:
    package, interfaces, worlds, files = read_wit(wit)
    sources = []
    for f in files:
        try:
            sources.append(str(f.resolve().relative_to(ROOT)))
        except ValueError:
            sources.append(f.name)
    return Writer(package, interfaces, worlds).write(sources)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wit", type=Path, default=ROOT / "wit", help="a .wit file or a directory of them (default: wit/)")
    parser.add_argument("--out", type=Path, default=OUTPUT, help=f"where to write (default: {OUTPUT.relative_to(ROOT)})")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if --out is not what would be written")
    args = parser.parse_args()
    try:
        text = generate(args.wit)
    except WitError as e:
        print(f"generate.py: {e}", file=sys.stderr)
        return 2
    if args.check:
        if not args.out.exists() or args.out.read_text(encoding="utf-8") != text:
            print(f"{args.out} is out of date: run python bindings/python/generate.py", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
