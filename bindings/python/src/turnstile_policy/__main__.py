"""`python -m turnstile_policy [--policy FILE] [--formats FILE] SCENARIO|-`: a scenario's decisions,
one JSON line per event, the same bytes as `turnstile run SCENARIO`.

The components are the ones inside the package unless `--policy` (or `$TURNSTILE_WASM`) names another
policy component, `--formats` (or `$TURNSTILE_FORMATS_WASM`) another formats component. A scenario
that can't be read exits 2, printing what `turnstile run` prints: `turnstile: ` and each
problem placed in the file.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, List, NoReturn, Optional, TypeVar

import wasmtime

from . import (DiagnosticError, FormatsComponent, IncompatibleComponent, Policy, PolicyComponent, TurnstileError,
               component_path, formats_path)

C = TypeVar("C")


def fail(message: str) -> NoReturn:
    sys.stderr.buffer.write(f"turnstile: {message}\n".encode("utf-8"))
    sys.stderr.flush()
    raise SystemExit(2)


def read(file: str, source: str) -> str:
    try:
        if file == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(file, "rb") as f:
                data = f.read()
    except OSError as e:
        fail(f"{source}: {e.strerror} (os error {e.errno})")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        fail(f"{source}:{line}: not UTF-8 text")


def load(component: Callable[[str], C], path: Optional[str], find: Callable[[Optional[str]], str]) -> C:
    """One component, or the message that says which file can't be used and why."""
    try:
        file = find(path)
    except FileNotFoundError as e:
        fail(str(e))
    try:
        return component(file)
    except IncompatibleComponent as e:  # names the file
        fail(str(e))
    except (OSError, wasmtime.WasmtimeError) as e:
        fail(f"{file}: {e}")


def main(argv: Optional[List[str]] = None) -> int:
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    parser = argparse.ArgumentParser(
        prog="python -m turnstile_policy" if script in ("", "__main__.py", "-c") else script,
        description="Feed a scenario's events to the policy and print one JSON decision per event, "
                    "as `turnstile run` does.")
    parser.add_argument("--policy", metavar="FILE",
                        help="the policy component file to use (default: $TURNSTILE_WASM when set, else the one "
                             "inside the package)")
    parser.add_argument("--formats", metavar="FILE",
                        help="the formats component file to use, which reads the scenario and writes the lines "
                             "(default: $TURNSTILE_FORMATS_WASM when set, else the one inside the package)")
    parser.add_argument("--explain", action="store_true",
                        help="add each denial's remedies to its line, as `turnstile run --explain` does")
    parser.add_argument("scenario", metavar="SCENARIO", help="the scenario file, or - for standard input")
    args = parser.parse_args(argv)
    source = "<stdin>" if args.scenario == "-" else args.scenario
    text = read(args.scenario, source)
    policy = Policy(load(PolicyComponent, args.policy, component_path),
                    load(FormatsComponent, args.formats, formats_path))
    try:
        lines = policy.run(text, source, explain=args.explain)
    except DiagnosticError as e:
        fail(str(e))
    except TurnstileError as e:
        fail(f"{source}: {e}")
    out = sys.stdout.buffer
    try:
        for line in lines:
            out.write(line.encode("utf-8") + b"\n")
        out.flush()
    except BrokenPipeError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
