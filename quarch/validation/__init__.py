"""Reproductions of published results: each a setup + published figure + tolerance + source.

A claim's check is one of
    ratio     passed when |quarch - published| / published <= tolerance
    at_least  passed when quarch >= published * (1 - tolerance)   ("more than 80 %", "> 10x")
    range     passed when low <= quarch <= high                    (published is (low, high))
A claim that cannot be reproduced is reported failed with its reason, never dropped; every
constant comes from the paper, its artifact or ../shared/anchors/pe-models.md, never tuned.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable

DEFAULT_TOLERANCE = 0.10  # on ratios (the default)


@dataclass(frozen=True)
class Outcome:
    """One claim checked: what was published, what quarch gets, and whether they agree."""

    claim: str
    source: str
    published: float | tuple[float, float] | None
    quarch: float | None
    tolerance: float
    check: str
    passed: bool
    rel_error: float | None
    note: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        if isinstance(self.published, tuple):
            data["published"] = list(self.published)
        return data


def judge(claim: str, source: str, published, quarch: float, tolerance: float = DEFAULT_TOLERANCE,
          check: str = "ratio", note: str = "") -> Outcome:
    """Compare a reproduced figure with the published one under the claim's check."""
    if check == "range":
        low, high = published
        passed = low <= quarch <= high
        middle = (low + high) / 2
        rel = 0.0 if passed else min(abs(quarch - low) / low, abs(quarch - high) / high)
        return Outcome(claim, source, (low, high), quarch, tolerance, check, passed, rel if middle else None, note)
    rel = (quarch - published) / published
    passed = abs(rel) <= tolerance if check == "ratio" else quarch >= published * (1 - tolerance)
    return Outcome(claim, source, published, quarch, tolerance, check, bool(passed and math.isfinite(quarch)), rel, note)


def not_reproduced(claim: str, source: str, published, reason: str) -> Outcome:
    """A claim quarch cannot reproduce: failed, with the reason."""
    return Outcome(claim, source, published, None, DEFAULT_TOLERANCE, "ratio", False, None, f"not reproduced: {reason}")


def run_all(select: Callable[[str], bool] | None = None) -> list[Outcome]:
    """Every reproduction in `quarch.validation.claims` (optionally those whose name `select` accepts)."""
    from quarch.validation.claims import REPRODUCTIONS
    outcomes: list[Outcome] = []
    for name, reproduce in REPRODUCTIONS.items():
        if select is None or select(name):
            outcomes.extend(reproduce())
    return outcomes
