"""What the tests share: where things are, the components, the Rust CLI to compare with."""

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON_DIR = HERE.parent
SOURCE = PYTHON_DIR / "src"  # the package's source (its _generated.py written by generate.py)
ROOT = PYTHON_DIR.parents[1]
sys.path.insert(0, str(SOURCE))

VECTORS = ROOT / "tests" / "conformance"
# The policy component: $TURNSTILE_WASM, else the one scripts/test-bindings writes.
WASM = os.environ.get("TURNSTILE_WASM") or str(ROOT / "target" / "turnstile.wasm")
# The formats component: $TURNSTILE_FORMATS_WASM, else the one scripts/test-bindings writes.
FORMATS_WASM = os.environ.get("TURNSTILE_FORMATS_WASM") or str(ROOT / "target" / "turnstile-formats.wasm")
# The Rust CLI the bindings must agree with, byte for byte.
CLI = os.environ.get("TURNSTILE_CLI") or str(ROOT / "target" / "release" / "turnstile")


def scenarios():
    """Every scenario: the conformance vectors and the examples (examples/org.json is an `org` object alone)."""
    found = sorted(VECTORS.glob("*.json")) + sorted(p for p in (ROOT / "examples").glob("*.json") if p.name != "org.json")
    assert found, f"no scenarios in {VECTORS}"
    return found


def cli(*args, stdin=None):
    """`turnstile ARGS` run from the repository root: (exit status, stdout bytes, stderr bytes)."""
    if not Path(CLI).exists():
        raise FileNotFoundError(f"no {CLI}: build it first (cargo build --release), or set TURNSTILE_CLI")
    done = subprocess.run([CLI, *args], cwd=ROOT, input=stdin, capture_output=True)
    return done.returncode, done.stdout, done.stderr


def relative(path):
    return str(Path(path).relative_to(ROOT))


_MISSING = object()


def first_difference(path, got, want):
    """The first difference between two JSON values as `path: got X, expected Y`, or None.

    Objects: the expected keys in order, then keys only `got` has. Lists: each
    element in order, then the length.
    """
    if isinstance(want, dict) and isinstance(got, dict):
        for key in [*want, *(k for k in got if k not in want)]:
            a, b = got.get(key, _MISSING), want.get(key, _MISSING)
            if a is _MISSING or b is _MISSING:
                show = lambda v: "nothing" if v is _MISSING else json.dumps(v)  # noqa: E731
                return f"{path}.{key}: got {show(a)}, expected {show(b)}"
            diff = first_difference(f"{path}.{key}", a, b)
            if diff:
                return diff
        return None
    if isinstance(want, list) and isinstance(got, list):
        for i, (a, b) in enumerate(zip(got, want)):
            diff = first_difference(f"{path}[{i}]", a, b)
            if diff:
                return diff
        if len(got) != len(want):
            return f"{path}: got {len(got)} items, expected {len(want)}"
        return None
    # JSON equality: true is not 1, and 1 is not "1".
    if type(got) is not type(want) or got != want:
        return f"{path or '.'}: got {json.dumps(got)}, expected {json.dumps(want)}"
    return None
