"""Faults the fake API can inject, and the per-request draw that applies them."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field, fields, replace
from typing import Any


class Fault(enum.StrEnum):
    NONE = "ok"
    RATE_LIMITED = "429"
    SERVER_ERROR = "503"
    DROP_BEFORE = "drop_before"  # the connection is closed before the request is processed
    DROP_AFTER = "drop_after"  # processed and recorded, then the connection is closed without an answer


@dataclass(frozen=True)
class Faults:
    """Fault settings; rates are probabilities per request (per event for `fail_rate`).

    `script` forces the outcome of the next requests, in arrival order, before any rate applies
    (e.g. `["429", "429", "ok"]`), for tests that need an exact sequence.
    """

    latency_ms: float = 0.0
    rate_429: float = 0.0
    retry_after: float | None = None  # value of Retry-After on injected 429s; None: no header
    rate_5xx: float = 0.0
    drop_before: float = 0.0
    drop_after: float = 0.0
    fail_rate: float = 0.0
    partial_422: bool = False  # answer 422 (DetailedError) instead of 200 when some events failed
    validate_sample: float = 1.0  # share of events checked against the full JSON schema
    script: tuple[Fault, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for name in ("rate_429", "rate_5xx", "drop_before", "drop_after", "fail_rate", "validate_sample"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms must be >= 0, got {self.latency_ms}")
        object.__setattr__(self, "script", tuple(Fault(step) for step in self.script))

    def updated(self, **changes: Any) -> Faults:
        """A copy with `changes` applied; an unknown name is a ValueError (from the control endpoint)."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["script"] = [str(step) for step in self.script]
        return values


class FaultDraw:
    """Decides the fault of each request from the current settings (scripted steps first)."""

    def __init__(self, faults: Faults, seed: int | None = None) -> None:
        self.faults = faults
        self._script = list(faults.script)
        self._rng = random.Random(seed)

    def replace_faults(self, faults: Faults) -> None:
        self.faults = faults
        self._script = list(faults.script)

    def next_request(self) -> Fault:
        if self._script:
            return self._script.pop(0)
        faults, draw = self.faults, self._rng.random()
        for fault, rate in (
            (Fault.RATE_LIMITED, faults.rate_429),
            (Fault.SERVER_ERROR, faults.rate_5xx),
            (Fault.DROP_BEFORE, faults.drop_before),
            (Fault.DROP_AFTER, faults.drop_after),
        ):
            if draw < rate:
                return fault
            draw -= rate
        return Fault.NONE

    def event_fails(self) -> bool:
        return self.faults.fail_rate > 0 and self._rng.random() < self.faults.fail_rate

    def validates_event(self) -> bool:
        return self.faults.validate_sample >= 1.0 or self._rng.random() < self.faults.validate_sample
