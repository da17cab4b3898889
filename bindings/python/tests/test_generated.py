"""The generated API is the WIT's: current, documented, complete; the pins agree."""

import contextlib
import importlib
import io
import re
import shutil
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

from support import PYTHON_DIR, ROOT, SOURCE

sys.path.insert(0, str(PYTHON_DIR))
import generate  # noqa: E402

import turnstile_policy  # noqa: E402

GENERATED = SOURCE / "turnstile_policy" / "_generated.py"


class Generated(unittest.TestCase):
    def test_is_current(self):
        # The output is committed; this fails when the WIT changed and the generator wasn't run.
        self.assertTrue(GENERATED.read_text(encoding="utf-8") == generate.generate(ROOT / "wit"),
                        "bindings/python/src/turnstile_policy/_generated.py is out of date: "
                        "run python bindings/python/generate.py")

    def test_carries_every_doc_comment_of_the_wrapped_interfaces(self):
        _, interfaces, worlds, _ = generate.read_wit(ROOT / "wit")
        text = GENERATED.read_text(encoding="utf-8")
        wrapped = {name for world in worlds.values() for name in world.exports}
        self.assertEqual(wrapped, {"types", "engine", "scenario", "listing"})
        missing = []
        for name in wrapped:
            iface = interfaces[name]
            docs = [iface.docs] + [f.docs for f in iface.funcs]
            for td in iface.types.values():
                docs += [td.docs] + [d for _, _, d in td.fields] + [d for _, _, d in td.cases] + [f.docs for f in td.funcs]
            for doc in docs:
                missing += [line for line in doc.splitlines() if line.strip() and line not in text]
        self.assertEqual(missing, [], "doc lines of the WIT missing from the docstrings")

    def test_has_every_type_and_function_once_and_a_class_per_component(self):
        _, interfaces, worlds, _ = generate.read_wit(ROOT / "wit")
        names = set(turnstile_policy.__all__)
        for name in {n for world in worlds.values() for n in world.exports}:
            for td in interfaces[name].types.values():
                self.assertIn(generate.camel(td.name), names)
            for f in interfaces[name].funcs:
                self.assertTrue(hasattr(getattr(turnstile_policy, f"{generate.camel(name)}Interface"),
                                        generate.snake(f.name)), f.name)
        text = GENERATED.read_text(encoding="utf-8")
        # `types` is exported by both components and written once: one class per WIT type.
        self.assertEqual(text.count("\nclass Event:"), 1)
        self.assertEqual(text.count("# " + "-" * 60 + " interface types"), 1)
        self.assertNotIn("TypesInterface", names, "an interface of types alone has nothing to call")
        # The shipped components: what each must export, and the interfaces each gives.
        policy, formats = turnstile_policy.PolicyComponent, turnstile_policy.FormatsComponent
        self.assertEqual(policy.EXPORTS, ("turnstile:policy/types@0.3.0", "turnstile:policy/engine@0.3.0"))
        self.assertEqual(formats.EXPORTS, ("turnstile:policy/types@0.3.0", "turnstile:policy/scenario@0.3.0",
                                           "turnstile:policy/listing@0.3.0"))
        self.assertEqual(set(policy.__annotations__) - {"SCHEMA", "PACKAGE", "WORLD", "EXPORTS"}, {"engine"})
        self.assertEqual(set(formats.__annotations__) - {"SCHEMA", "PACKAGE", "WORLD", "EXPORTS"}, {"scenario", "listing"})
        self.assertEqual(set(policy.SCHEMA["functions"]), {"turnstile:policy/engine@0.3.0", "turnstile:policy/scenario@0.3.0",
                                                           "turnstile:policy/listing@0.3.0"})
        self.assertNotIn("AllComponent", names, "world `all` is no component")

    def test_check_mode(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "g.py"
            out.write_text("stale", encoding="utf-8")
            argv = sys.argv
            stderr = io.StringIO()
            try:
                sys.argv = ["generate.py", "--check", "--out", str(out)]
                with contextlib.redirect_stderr(stderr):
                    self.assertEqual(generate.main(), 1)
                self.assertIn("is out of date: run python bindings/python/generate.py", stderr.getvalue())
                sys.argv = ["generate.py", "--out", str(out)]
                self.assertEqual(generate.main(), 0)
                sys.argv = ["generate.py", "--check", "--out", str(out)]
                self.assertEqual(generate.main(), 0)
            finally:
                sys.argv = argv


# A WIT with what the real one may grow into: a payload-less case, tuples, results, keywords, constructors.
GROWN = textwrap.dedent("""\
    package acme:grown@1.2.3;

    /// Docs of the interface.
    interface engine {
        type instant = s64;
        /// Yes or no.
        enum answer { yes, no, %import }
        record pair { %from: string, at: option<instant>, both: tuple<u8, string> }
        variant shape { none, point(pair), many(list<pair>) }
        resource counter {
            /// Makes one.
            constructor(start: u32);
            /// Adds.
            add: func(n: u32) -> result<u32, string>;
            merge: static func(a: counter, b: borrow<counter>) -> counter;
        }
        /// Asks.
        ask: func(s: shape, bytes: list<u8>) -> answer;
    }

    interface other {
        use engine.{pair, answer as reply};
        twice: func(p: pair) -> list<reply>;
    }

    /// Only types: no class of functions.
    interface shapes {
        record size { w: u32 }
    }

    interface listing {
        use shapes.{size};
        measure: func() -> size;
    }

    /// The big one.
    world grown {
        export engine;
        export other;
    }

    world small {
        export shapes;
        export listing;
    }

    world all {
        export engine;
        export other;
        export shapes;
        export listing;
    }
    """)


class Generator(unittest.TestCase):
    def test_a_grown_wit_gives_a_module_that_imports(self):
        with tempfile.TemporaryDirectory() as tmp:
            wit = Path(tmp) / "grown.wit"
            wit.write_text(GROWN, encoding="utf-8")
            package = Path(tmp) / "grownpkg"
            package.mkdir()
            (package / "__init__.py").write_text("", encoding="utf-8")
            shutil.copy(SOURCE / "turnstile_policy" / "_runtime.py", package / "_runtime.py")
            text = generate.generate(wit)
            (package / "_generated.py").write_text(text, encoding="utf-8")
            sys.path.insert(0, tmp)
            try:
                g = importlib.import_module("grownpkg._generated")
            finally:
                sys.path.remove(tmp)
        self.assertEqual(g.PACKAGE, "acme:grown@1.2.3")
        self.assertEqual(g.Answer.IMPORT, "import")
        pair = g.Pair(from_="x", at=None, both=(1, "y"))
        self.assertEqual(g.Shape.Point(pair).value.from_, "x")
        self.assertEqual(g.Shape.None_().tag, "none")
        self.assertEqual(set(g.SCHEMA["functions"]),
                         {"acme:grown/engine@1.2.3", "acme:grown/other@1.2.3", "acme:grown/listing@1.2.3"})
        # A class per world but `all`, each naming the exports it checks and the interfaces it gives.
        self.assertEqual(g.GrownComponent.EXPORTS, ("acme:grown/engine@1.2.3", "acme:grown/other@1.2.3"))
        self.assertEqual(g.SmallComponent.EXPORTS, ("acme:grown/shapes@1.2.3", "acme:grown/listing@1.2.3"))
        self.assertFalse(hasattr(g, "AllComponent"))
        self.assertFalse(hasattr(g, "ShapesInterface"))
        self.assertTrue(g.GrownComponent.__doc__.startswith("The big one."))
        self.assertIn("def _interfaces(self) -> None:\n        self.listing = ListingInterface(self)\n", text)
        self.assertIs(g.GrownComponent.SCHEMA, g.SmallComponent.SCHEMA)
        self.assertEqual(g.SCHEMA["functions"]["acme:grown/listing@1.2.3"]["measure"], ((), ("type", "shapes.size")))
        engine = g.SCHEMA["functions"]["acme:grown/engine@1.2.3"]
        self.assertEqual(engine["[static]counter.merge"],
                         ((("own", "engine.counter"), ("borrow", "engine.counter")), ("own", "engine.counter")))
        self.assertEqual(engine["[method]counter.add"], ((("borrow", "engine.counter"), "u32"), ("result", "u32", "string")))
        self.assertEqual(g.SCHEMA["functions"]["acme:grown/other@1.2.3"]["twice"],
                         ((("type", "engine.pair"),), ("list", ("type", "engine.answer"))))
        self.assertIn("Made by `policy.engine.Counter(...)`, `policy.engine.Counter.merge(...)`", g.Counter.__doc__)
        self.assertEqual(g.CounterStatics.__call__.__doc__, "Makes one.")
        self.assertIn("def ask(self, s: Shape, bytes: bytes) -> Answer:", text)
        self.assertTrue(re.search(r"class Answer\(WitEnum\):\n    \"\"\"Yes or no.\"\"\"", text))

    def test_what_it_cant_read_is_an_error_naming_the_place(self):
        with tempfile.TemporaryDirectory() as tmp:
            wit = Path(tmp) / "bad.wit"
            wit.write_text("package a:b;\ninterface i {\n  f: func() -> future<u8>;\n}\n", encoding="utf-8")
            with self.assertRaisesRegex(generate.WitError, "future"):
                generate.generate(wit)
            wit.write_text("package a:b;\ninterface i {\n  f: func(;\n}\n", encoding="utf-8")
            with self.assertRaisesRegex(generate.WitError, r"bad.wit:3: expected a name, found `;`"):
                generate.generate(wit)


class Pins(unittest.TestCase):
    def test_the_package_depends_on_the_pinned_wasmtime(self):
        pins = [line.strip() for line in (PYTHON_DIR / "requirements.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
        pyproject = (PYTHON_DIR / "pyproject.toml").read_text(encoding="utf-8")
        dependencies = re.search(r"^dependencies = \[(.*?)\]", pyproject, re.M | re.S).group(1)
        self.assertEqual(re.findall(r'"([^"]+)"', dependencies), pins)
        self.assertEqual(pins, ["wasmtime==48.0.0"])


if __name__ == "__main__":
    unittest.main()
