"""`pip install ./bindings/python` into a fresh venv: the package builds (the typed API from the WIT,
the two components with cargo), installs, imports, carries its components (no environment
variable), and runs a scenario giving the CLI's bytes.

Slow (a venv, a build, wasmtime from the package index or pip's cache), so it runs when
TURNSTILE_TEST_INSTALL=1; scripts/test-bindings sets it.
"""

import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from support import ROOT, SOURCE, cli

PACKAGED = {"policy": SOURCE / "turnstile_policy" / "turnstile.wasm",
            "formats": SOURCE / "turnstile_policy" / "turnstile-formats.wasm"}


@unittest.skipUnless(os.environ.get("TURNSTILE_TEST_INSTALL") == "1",
                     "installs into a fresh venv: set TURNSTILE_TEST_INSTALL=1 (scripts/test-bindings does)")
class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="turnstile-install-")
        cls.dir = Path(cls.tmp.name)
        # What a user has: no component named by the environment, nothing on PYTHONPATH.
        cls.env = {k: v for k, v in os.environ.items()
                   if k not in ("TURNSTILE_WASM", "TURNSTILE_FORMATS_WASM", "PYTHONPATH")}
        venv = cls.dir / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        cls.python = str(venv / "bin" / "python")
        cls.bin = venv / "bin"
        done = subprocess.run([cls.python, "-m", "pip", "install", "-v", "--disable-pip-version-check",
                               "--no-input", "./bindings/python"],
                              cwd=ROOT, env=cls.env, capture_output=True, text=True)
        cls.log = done.stdout + done.stderr
        if done.returncode != 0:
            cls.tearDownClass()
            raise AssertionError(f"pip install ./bindings/python failed:\n{cls.log[-6000:]}")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_in(self, cwd, *args, stdin=None):
        done = subprocess.run(list(args), cwd=cwd, env=self.env, input=stdin, capture_output=True)
        return done.returncode, done.stdout, done.stderr

    def test_the_components_were_built_into_the_package(self):
        if not PACKAGED["policy"].exists():
            self.assertIn("building the policy component: run --release --locked -p turnstile -- component --out",
                          self.log)
        if not PACKAGED["formats"].exists():
            self.assertIn("building the formats component: run --release --locked -p turnstile -- component "
                          "--formats --out", self.log)
        status, out, err = self.run_in(self.dir, self.python, "-c", (
            "import pathlib, turnstile_policy as t; p = pathlib.Path(t.__file__).parent; "
            "print(p); print(sorted(f.name for f in p.iterdir() if f.suffix in ('.py', '.wasm', '.typed')))"))
        self.assertEqual(status, 0, err.decode())
        where, files = out.decode().splitlines()
        self.assertIn("site-packages", where)
        self.assertEqual(eval(files), ["__init__.py", "__main__.py", "_generated.py", "_policy.py", "_runtime.py",
                                       "py.typed", "turnstile-formats.wasm", "turnstile.wasm"])
        # Each file is the component it is named for: loaded as its world, and the installed package's
        # own, byte for byte what the CLI writes.
        status, out, err = self.run_in(self.dir, self.python, "-c", (
            "import turnstile_policy as t; p = t.Policy(); "
            "print(p.policy_component.path); print(p.formats_component.path); print(p.engine.info().version); "
            "print(t.__version__); print(t.PACKAGE)"))
        self.assertEqual(status, 0, err.decode())
        policy, formats, version, package_version, wit = out.decode().splitlines()
        self.assertEqual((package_version, wit), (version, f"turnstile:policy@{version}"))
        self.assertEqual((Path(policy).name, Path(formats).name), ("turnstile.wasm", "turnstile-formats.wasm"))
        self.assertEqual(Path(policy).parent, Path(where))
        self.assertEqual(Path(formats).parent, Path(where))
        for path, flags in [(policy, []), (formats, ["--formats"])]:
            self.assertEqual(Path(path).read_bytes(), cli("component", *flags, "--out", "-")[1], path)

    def test_a_scenario_runs_as_the_cli_runs_it(self):
        for name in ["examples/licensing.json", "examples/accounts.json"]:
            self.assertEqual(self.run_in(ROOT, self.python, "-m", "turnstile_policy", name), cli("run", name))
        self.assertEqual(self.run_in(ROOT, str(self.bin / "turnstile-policy"), "examples/calls.json"),
                         cli("run", "examples/calls.json"))
        bad = b'{"events": [{"at": "2026-11-22T10:00:00Z", "kind": "login", "user": "ghost"}]}'
        self.assertEqual(self.run_in(ROOT, self.python, "-m", "turnstile_policy", "-", stdin=bad),
                         cli("run", "-", stdin=bad))

    def test_the_readme_example_runs_from_the_installed_package(self):
        # As the README says: from the repository root, the installed package (bindings/python has no
        # turnstile_policy of its own to shadow it: the source is in src/).
        status, out, err = self.run_in(ROOT, self.python, "bindings/python/example.py")
        self.assertEqual(status, 0, err.decode())
        from test_example import EXAMPLE_OUTPUT
        self.assertEqual(out.decode(), EXAMPLE_OUTPUT)


if __name__ == "__main__":
    unittest.main()
