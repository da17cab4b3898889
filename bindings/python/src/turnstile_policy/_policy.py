"""`Policy`: the component this package ships, with its interfaces and a scenario runner."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List, Optional, Union

from ._generated import GeneratedPolicy

PACKAGED = Path(__file__).with_name("turnstile.wasm")
"""Where the package keeps its component (written when the package is built)."""


def component_path(path: Optional[Union[str, "os.PathLike[str]"]] = None) -> str:
    """The component to load: `path`; else `$TURNSTILE_WASM` when set; else the one inside the package."""
    if path is not None:
        return os.fspath(path)
    env = os.environ.get("TURNSTILE_WASM")
    if env:
        return env
    if PACKAGED.exists():
        return str(PACKAGED)
    raise FileNotFoundError(
        f"no policy component: {PACKAGED} is missing (this is a source checkout, not an installed package). "
        "Install the package (pip install ./bindings/python), pass the path `turnstile component --out FILE` "
        "wrote, or set TURNSTILE_WASM to it")


class Policy(GeneratedPolicy):
    """The policy component, compiled and instantiated once.

    `Policy()` loads the component inside this package (or `$TURNSTILE_WASM` when it is
    set); `Policy(path)` another one (`turnstile component --out FILE` writes it). Its interfaces are attributes:
    `policy.engine` (types, `policy.engine.Org.load(state)`, `default_settings()`, ...)
    and `policy.scenario` (scenario files read, decision lines written). A component
    that isn't the one these bindings were generated for is refused here
    (`IncompatibleComponent`), naming what differs. Not thread-safe: one per thread.
    """

    def __init__(self, path: Optional[Union[str, "os.PathLike[str]"]] = None):
        super().__init__(component_path(path))

    def run(self, text: str, source: str = "<string>") -> List[str]:
        """A scenario's decision lines, exactly as `turnstile run` prints them (without newlines).

        The component reads the scenario (`source` names it in messages), its state is
        loaded, and its events are stepped in order, each decision's effects applied
        before the next event. A scenario that can't be read raises `DiagnosticError`,
        whose `lines` (and `str()`) are what `turnstile run` prints after `turnstile: `.
        """
        scenario = self.scenario.parse(text, source)
        with self.engine.Org.load(scenario.state) as org:
            return [self.scenario.render_decision(i, event, org.step(event))
                    for i, event in enumerate(scenario.events)]


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
