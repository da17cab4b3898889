"""Every scenario replayed through the component from Python, compared with the Rust CLI.

For each tests/conformance/NAME.json and examples/*.json, `Policy.run` (the
component reads the scenario and writes each line) must give exactly the bytes
`turnstile run FILE` prints; each vector's lines must also equal
NAME.expected.jsonl as data, field by field (a failure names the vector, the
event and the first differing field). A scenario that can't be read must give
the CLI's located error lines, and `python -m turnstile_policy` the CLI's
exact output and exit status.

Run: TURNSTILE_WASM=target/turnstile.wasm TURNSTILE_FORMATS_WASM=target/turnstile-formats.wasm \
     python -m unittest discover -s bindings/python/tests
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from support import FORMATS_WASM, ROOT, SOURCE, WASM, cli, first_difference, relative, scenarios

from turnstile_policy import DiagnosticError, Policy


def expected_lines(vector):
    path = vector.with_name(vector.name[: -len(".json")] + ".expected.jsonl")
    if not path.exists():
        raise FileNotFoundError(f"no {path.name} beside it")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def module(*args, stdin=None):
    """`python -m turnstile_policy --policy WASM --formats FORMATS_WASM ARGS` from the repository root."""
    env = dict(os.environ, PYTHONPATH=str(SOURCE))
    done = subprocess.run([sys.executable, "-m", "turnstile_policy", "--policy", WASM, "--formats", FORMATS_WASM, *args],
                          cwd=ROOT, env=env, input=stdin, capture_output=True)
    return done.returncode, done.stdout, done.stderr


# Scenarios that can't be read: syntax, format, instants, references, states that don't load.
BAD = {
    "syntax.json": '{"users": [{"id": "ana"},]}',
    "unknown_field.json": '{"org": {"trail": true}}',
    "missing_id.json": '{"users": [{"name": "x"}]}',
    "unknown_kind.json": '{"events": [{"at": "2026-11-22T10:00:00Z", "kind": "fly"}]}',
    "no_such_date.json": '{"events": [\n  {"at": "2026-11-31T10:00:00Z", "kind": "set_plan", "plan": "basic"}]}',
    "unknown_user.json": '{"events": [{"at": "2026-11-22T10:00:00Z", "kind": "login", "user": "ghost"}]}',
    "negative.json": '{"org": {"temporary_days": -1}}',
    "not_an_object.json": '[]',
    "empty.json": '',
    "duplicate_plans.json": '{"org": {"plans": [{"name": "gold"}, {"name": "gold"}]}}',
    "state_refused.json": ('{"org": {"licenses": {"standard": 1}},\n "users": [\n'
                           '  {"id": "ana", "standard": "assigned"},\n  {"id": "ana", "standard": "assigned"},\n'
                           '  {"id": "ben", "standard": "assigned"}]}'),
}


class SameBytesAsTheCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = Policy(WASM, FORMATS_WASM)

    def test_every_scenario_prints_the_clis_bytes(self):
        found = scenarios()
        failures = []
        for path in found:
            name = relative(path)
            status, want, err = cli("run", name)
            self.assertEqual(status, 0, f"turnstile run {name}: {err.decode()}")
            try:
                got = "".join(line + "\n" for line in self.policy.run(path.read_text(encoding="utf-8"), name))
            except Exception as e:  # an error on one scenario is a failure of that scenario
                failures.append(f"{name}: {type(e).__name__}: {e}")
                continue
            if got.encode("utf-8") != want:
                lines = zip(got.encode("utf-8").splitlines(), want.splitlines())
                first = next((i for i, (a, b) in enumerate(lines) if a != b), None)
                failures.append(f"{name}: differs from `turnstile run` at line {first}")
        if failures:
            self.fail(f"{len(failures)} of {len(found)} scenarios differ:\n" + "\n".join(failures))

    def test_every_vector_gives_the_expected_decisions(self):
        vectors = [p for p in scenarios() if p.parent.name == "conformance"]
        self.assertTrue(vectors)
        failures = []
        for vector in vectors:
            got = [json.loads(line) for line in self.policy.run(vector.read_text(encoding="utf-8"), vector.name)]
            want = expected_lines(vector)
            diff = next((f"event {i}: {d}" for i, (g, w) in enumerate(zip(got, want))
                         if (d := first_difference("", g, w))), None)
            if diff is None and len(got) != len(want):
                diff = f"{len(got)} decisions, expected {len(want)}"
            if diff:
                failures.append(f"{vector.name} {diff}")
        if failures:
            self.fail(f"{len(failures)} of {len(vectors)} vectors differ:\n" + "\n".join(failures))

    def test_bad_scenarios_give_the_clis_located_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name, text in BAD.items():
                path = Path(tmp) / name
                path.write_text(text, encoding="utf-8")
                status, out, err = cli("run", str(path))
                self.assertEqual((status, out), (2, b""), f"{name}: {err!r}")
                self.assertTrue(err.startswith(f"turnstile: {path}".encode()), f"{name}: {err!r}")
                with self.assertRaises(DiagnosticError, msg=name) as caught:
                    self.policy.run(text, str(path))
                self.assertEqual(f"turnstile: {caught.exception}\n".encode("utf-8"), err, name)
                self.assertEqual(len(caught.exception.lines), len(caught.exception.diagnostics))
                self.assertEqual(str(caught.exception), "\n".join(caught.exception.lines))

    def test_a_state_that_doesnt_load_lists_every_problem_in_place(self):
        with self.assertRaises(DiagnosticError) as caught:
            self.policy.run(BAD["state_refused.json"], "state.json")
        lines = caught.exception.lines
        self.assertGreaterEqual(len(lines), 2, lines)
        self.assertTrue(all(line.startswith("state.json:") for line in lines), lines)
        self.assertTrue(any(d.path.startswith("users[") for d in caught.exception.diagnostics))


class TheModuleIsTheCli(unittest.TestCase):
    """`python -m turnstile_policy` prints what `turnstile run` prints, exits as it exits."""

    def test_a_scenario_file(self):
        self.assertEqual(module("examples/licensing.json"), cli("run", "examples/licensing.json"))

    def test_explained(self):
        got = module("--explain", "examples/licensing.json")
        self.assertEqual(got, cli("run", "--explain", "examples/licensing.json"))
        self.assertIn(b'"remedies":[{', got[1])

    def test_standard_input(self):
        text = (ROOT / "examples" / "calls.json").read_bytes()
        self.assertEqual(module("-", stdin=text), cli("run", "-", stdin=text))

    def test_a_bad_scenario(self):
        text = BAD["no_such_date.json"].encode()
        got, want = module("-", stdin=text), cli("run", "-", stdin=text)
        self.assertEqual(got, want)
        self.assertEqual(got[0], 2)

    def test_a_missing_file(self):
        got, want = module("no/such.json"), cli("run", "no/such.json")
        self.assertEqual(got, want)

    def test_text_that_isnt_utf8(self):
        text = b'{"users": [\n{"id": "\xff"}]}'
        self.assertEqual(module("-", stdin=text), cli("run", "-", stdin=text))


if __name__ == "__main__":
    unittest.main()
