"""`python -m turnstile [--policy FILE] SCENARIO|-`: one JSON decision line per event, like `turnstile run`.

The component comes from `--policy`, else `$TURNSTILE_WASM`. A scenario that
can't be read exits 2 with a message naming the place.
"""

import argparse
import sys

from . import Policy, ScenarioError, StateError, read, run
from .scenario import dumps


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m turnstile", description=__doc__.splitlines()[0])
    parser.add_argument("--policy", help="the component file (default: $TURNSTILE_WASM)")
    parser.add_argument("scenario", help="a scenario file, or - for standard input")
    args = parser.parse_args()
    source = "<stdin>" if args.scenario == "-" else args.scenario
    try:
        text = sys.stdin.read() if args.scenario == "-" else open(args.scenario, encoding="utf-8").read()
        policy = Policy(args.policy)
        lines = run(policy, read(policy, text))
    except (OSError, ScenarioError, StateError) as e:
        print(f"turnstile: {source}: {e}", file=sys.stderr)
        return 2
    for line in lines:
        print(dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
