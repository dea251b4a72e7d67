"""The classifier's verdict as the user's listing shows and filters it: gem or junk, and why.

A reason code is `<signal>:<detail>` (`blurry:low_laplacian_variance`); filters work on the
signal. Verdicts can be revised (a reclassification, a later burst frame): the newest wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from gemroll_contracts import MediaClassified

from .errors import InvalidRequest

VerdictFilter = Literal["gem", "junk", "unclassified"]

JUNK_SIGNALS = ("blurry", "dark", "overexposed", "noisy", "duplicate", "screenshot", "document",
                "nsfw")
"""The reasons a photo is kept out of the gems, in the order a person would look for them."""

NEUTRAL_SIGNALS = ("gem", "photo")
"""Signals that say what a photo is or how it scored, not what is wrong with it."""


@dataclass(frozen=True)
class Verdict:
    category: str
    is_gem: bool
    gem_score: float
    reasons: tuple[str, ...]
    decided_at: datetime

    @property
    def signals(self) -> tuple[str, ...]:
        """The distinct signals of the reasons, in their order."""
        return tuple(dict.fromkeys(signal_of(r) for r in self.reasons))


def signal_of(reason: str) -> str:
    return reason.split(":", 1)[0]


def verdict_of(event: MediaClassified) -> Verdict:
    data = event.data
    return Verdict(category=str(data.category), is_gem=data.is_gem, gem_score=data.gem_score,
                   reasons=tuple(data.reasons), decided_at=event.occurred_at)


@dataclass(frozen=True)
class MediaFilter:
    """`verdict`: gems, junk or not yet classified; `signal`: one reason's signal."""

    verdict: VerdictFilter | None = None
    signal: str | None = None

    def __post_init__(self) -> None:
        if self.signal is not None and not (
                self.signal.isascii() and self.signal.replace("_", "").isalpha()
                and 0 < len(self.signal) <= 40):
            raise InvalidRequest(f"reason must be a signal name such as 'blurry', not "
                                 f"{self.signal[:40]!r}")


EVERYTHING = MediaFilter()


@dataclass(frozen=True)
class Facets:
    """What the user's media break down into: for the filter chips and their counts."""

    total: int
    gems: int
    junk: int
    unclassified: int
    junk_signals: dict[str, int]
    """Junk per signal, in JUNK_SIGNALS order, then any other signal by name."""

    @classmethod
    def of(cls, total: int, gems: int, junk: int, signals: dict[str, int]) -> Facets:
        known = {s: signals[s] for s in JUNK_SIGNALS if signals.get(s)}
        others = {s: n for s, n in sorted(signals.items())
                  if s not in known and s not in NEUTRAL_SIGNALS and n}
        return cls(total=total, gems=gems, junk=junk, unclassified=total - gems - junk,
                   junk_signals=known | others)
