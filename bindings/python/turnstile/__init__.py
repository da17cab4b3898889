"""Turnstile's policy component from Python (wasmtime-py).

`Policy` loads the component `turnstile component --out FILE` wrote and gives
`Org`s; `scenario` reads scenario files and writes decision lines the way the
Rust host does. `python -m turnstile FILE` prints a scenario's decisions.
"""

from .engine import INTERFACE, EffectError, Org, Policy, StateError
from .scenario import Scenario, ScenarioError, decision_line, format_instant, parse_instant, read, run

__all__ = [
    "INTERFACE", "EffectError", "Org", "Policy", "StateError",
    "Scenario", "ScenarioError", "decision_line", "format_instant", "parse_instant", "read", "run",
]
