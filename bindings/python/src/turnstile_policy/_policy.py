"""`Policy`: the two components this package ships, their interfaces, and a scenario runner."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List, Optional, Union

from ._generated import EngineInterface, FormatsComponent, ListingInterface, PolicyComponent, ScenarioInterface

PACKAGED = Path(__file__).with_name("turnstile.wasm")
"""Where the package keeps its policy component (written when the package is built)."""

PACKAGED_FORMATS = Path(__file__).with_name("turnstile-formats.wasm")
"""Where the package keeps its formats component (written when the package is built)."""

PathLike = Union[str, "os.PathLike[str]"]


def _path(path: Optional[PathLike], env: str, packaged: Path, what: str, command: str) -> str:
    if path is not None:
        return os.fspath(path)
    value = os.environ.get(env)
    if value:
        return value
    if packaged.exists():
        return str(packaged)
    raise FileNotFoundError(
        f"no {what} component: {packaged} is missing (this is a source checkout, not an installed package). "
        f"Install the package (pip install ./bindings/python), pass the path `{command}` wrote, or set {env} to it")


def component_path(path: Optional[PathLike] = None) -> str:
    """The policy component to load: `path`; else `$TURNSTILE_WASM` when set; else the one inside the package."""
    return _path(path, "TURNSTILE_WASM", PACKAGED, "policy", "turnstile component --out FILE")


def formats_path(path: Optional[PathLike] = None) -> str:
    """The formats component to load: `path`; else `$TURNSTILE_FORMATS_WASM` when set; else the one inside
    the package."""
    return _path(path, "TURNSTILE_FORMATS_WASM", PACKAGED_FORMATS, "formats",
                 "turnstile component --formats --out FILE")


class Policy:
    """The policy component and the formats component, each compiled and instantiated once.

    `Policy()` loads the two components inside this package (`$TURNSTILE_WASM` and
    `$TURNSTILE_FORMATS_WASM` name others when set); `Policy(path, formats)` others
    (`turnstile component --out FILE` and `turnstile component --formats --out FILE` write
    them), each a path or an already loaded `PolicyComponent` / `FormatsComponent`. Their
    interfaces are attributes: `policy.engine` from the policy component
    (`policy.engine.Org.load(state)`, `default_settings()`, ...), `policy.scenario` (scenario
    files read, decision lines written) and `policy.listing` (licence CSV files read and
    written) from the formats component. Both export the same `types`, so what one returns
    the other takes as it is. A component that isn't the one these bindings were generated
    for, or a component of the other world, is refused here (`IncompatibleComponent`), naming
    what differs. Not thread-safe: one per thread.
    """

    engine: EngineInterface
    """The policy component's `engine`: organisations, decisions, defaults."""
    scenario: ScenarioInterface
    """The formats component's `scenario`: scenario files read, decision lines written."""
    listing: ListingInterface
    """The formats component's `listing`: licence CSV files read and written."""

    def __init__(self, path: Union[PathLike, PolicyComponent, None] = None,
                 formats: Union[PathLike, FormatsComponent, None] = None):
        self.policy_component = path if isinstance(path, PolicyComponent) else PolicyComponent(component_path(path))
        """The policy component (`types`, `engine`)."""
        self.formats_component = (formats if isinstance(formats, FormatsComponent)
                                  else FormatsComponent(formats_path(formats)))
        """The formats component (`types`, `scenario`, `listing`)."""
        self.engine = self.policy_component.engine
        self.scenario = self.formats_component.scenario
        self.listing = self.formats_component.listing

    def run(self, text: str, source: str = "<string>", explain: bool = False) -> List[str]:
        """A scenario's decision lines, exactly as `turnstile run` prints them (without newlines).

        The formats component reads the scenario (`source` names it in messages), the policy
        component loads its state and steps its events in order, each decision's effects
        applied before the next event, and the formats component writes each line. A
        scenario that can't be read raises `DiagnosticError`, whose `lines` (and `str()`) are
        what `turnstile run` prints after `turnstile: `. With `explain` (or `"explain": true` in
        the scenario) a denial's line carries its remedies, as `turnstile run --explain` prints it.
        """
        scenario = self.scenario.parse(text, source)
        with self.engine.Org.load(scenario.state) as org:
            return [self._line(org, i, event, scenario.explain or explain)
                    for i, event in enumerate(scenario.events)]

    def _line(self, org, index: int, event, explain: bool) -> str:
        decision = org.step(event)
        if explain and not decision.allow:
            # A denial changes nothing: the remedies are asked of the state it was decided on.
            return self.scenario.render_explained(index, event, decision, org.explain(event))
        return self.scenario.render_decision(index, event, decision)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def instant(value: Union[str, datetime]) -> int:
    """An instant as the WIT has it, whole seconds since 1970-01-01T00:00:00Z, from RFC 3339
    text (`2026-11-22T10:00:00Z`, `2026-11-22T11:00:00+01:00`) or an aware `datetime`.

    A convenience over the standard library for events built in code; scenario files
    are read by the component itself.
    """
    if isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"`{value}` is not an RFC 3339 instant, e.g. 2026-11-22T10:00:00Z") from None
    if value.tzinfo is None:
        raise ValueError(f"`{value}` has no UTC offset, e.g. 2026-11-22T10:00:00Z")
    if value.microsecond:
        raise ValueError(f"`{value}`: instants have whole-second precision")
    return (value - _EPOCH) // timedelta(seconds=1)


def rfc3339(at: int) -> str:
    """An instant (seconds since the epoch) as RFC 3339 text in UTC: `2026-11-22T10:00:00Z`."""
    return (_EPOCH + timedelta(seconds=at)).isoformat().replace("+00:00", "Z")
