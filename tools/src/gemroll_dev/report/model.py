"""What the demo report shows, as plain data (filled by the demo, rendered by `render`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Training:
    """Whether an item may be used to train AI, and why (from the policy's training report)."""

    eligible: bool
    state: str
    """`admitted`, `retracted` or `not admitted`."""
    why: str


NOT_JUNK_SIGNALS = frozenset({"photo", "gem", "video"})
"""Reason signals that describe what an item is, not why it is junk."""


@dataclass(frozen=True)
class VideoView:
    """A clip's verdict details (the classifier's `video`) and what its container says."""

    duration_s: float
    frames_sampled: int
    poster: str | None
    """The ingest's poster frame (its preview route), relative to the report folder."""
    poster_time_s: float | None = None
    best_moment: tuple[float, float] | None = None
    """(start, end) in seconds: the stretch a recap movie takes."""
    codec: str | None = None
    fps: float | None = None

    @property
    def length(self) -> str:
        """`0:06` (minutes:seconds, rounded)."""
        minutes, seconds = divmod(round(self.duration_s), 60)
        return f"{minutes}:{seconds:02d}"


@dataclass(frozen=True)
class Item:
    media_id: str
    file: str
    """Path inside the sample camera roll."""
    image: str
    """Thumbnail, relative to the report folder."""
    sample_kind: str | None
    """What the sample roll says the item is (photo, screenshot, receipt, blurred, ...)."""
    sample_note: str | None
    sample_gem: bool | None
    """Whether the sample roll's labels make it a gem (to compare with the classifier)."""
    classified: dict[str, Any] | None
    """The classifier's verdict (MediaClassifiedData as JSON), None when none arrived."""
    training: Training
    reason_labels: list[str] = field(default_factory=list)
    """The reasons, readable (media ids replaced by file names)."""
    video: VideoView | None = None
    """Set for clips."""

    @property
    def is_gem(self) -> bool:
        return bool(self.classified and self.classified["is_gem"])

    @property
    def gem_score(self) -> float:
        return float(self.classified["gem_score"]) if self.classified else 0.0

    @property
    def reasons(self) -> list[str]:
        return list(self.classified.get("reasons", [])) if self.classified else []

    @property
    def category(self) -> str:
        return str(self.classified["category"]) if self.classified else "unclassified"

    @property
    def agrees(self) -> bool | None:
        """Does the classifier's verdict match the sample's label? None: no label."""
        return None if self.sample_gem is None else self.sample_gem == self.is_gem

    @property
    def junk_reason(self) -> str:
        """The group a non-gem falls in: the signal of its first reason that speaks against
        it (`blurry`, `dark`, `duplicate`, `screenshot`, ...)."""
        if not self.classified:
            return "not classified"
        for code in self.reasons:
            signal = code.split(":", 1)[0]
            if signal not in NOT_JUNK_SIGNALS:
                return signal
        return self.category if self.category != "photo" else "low score"


@dataclass(frozen=True)
class Suggestion:
    suggestion_id: str
    kind: str
    title: str
    status: str
    created_at: str
    preview: str | None
    """Rendered preview, relative to the report folder (None when it had none)."""
    members: list[Item]
    """The photos it is made of (their thumbnails are the "before" of an edit)."""
    acted: str | None = None
    """What the demo did with it (`share`, `edit`), if anything."""
    recipe: dict[str, Any] | None = None
    recap: str | None = None
    """A highlight's recap movie (MP4), relative to the report folder."""


@dataclass
class DemoReport:
    user: str
    started_at: datetime
    items: list[Item]
    suggestions: list[Suggestion]
    timings: dict[str, float] = field(default_factory=dict)
    """Phase -> seconds, in order."""
    training_report: dict[str, Any] = field(default_factory=dict)
    """The policy's /v1/me/training-report answer, as it was."""

    @property
    def gems(self) -> list[Item]:
        return sorted((i for i in self.items if i.is_gem), key=lambda i: -i.gem_score)

    @property
    def junk(self) -> dict[str, list[Item]]:
        """Non-gems grouped by reason, biggest group first."""
        groups: dict[str, list[Item]] = {}
        for item in self.items:
            if not item.is_gem:
                groups.setdefault(item.junk_reason, []).append(item)
        return dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))

    @property
    def videos(self) -> list[Item]:
        return [i for i in self.items if i.video is not None]

    @property
    def recaps(self) -> list[Suggestion]:
        return [s for s in self.suggestions if s.recap]

    @property
    def eligible(self) -> list[Item]:
        return [i for i in self.items if i.training.eligible]

    def summary_lines(self) -> list[str]:
        kinds: dict[str, int] = {}
        for s in self.suggestions:
            kinds[s.kind] = kinds.get(s.kind, 0) + 1
        made = ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in sorted(kinds.items()))
        junk = ", ".join(f"{len(v)} {k}" for k, v in self.junk.items())
        labelled = [i for i in self.items if i.agrees is not None]
        agreed = sum(1 for i in labelled if i.agrees)
        lines = [
            f"{len(self.items)} items uploaded and classified for {self.user}",
            f"{len(self.gems)} gems; junk: {junk or 'none'}",
            f"gem or not: the classifier matched the sample's labels on {agreed} of "
            f"{len(labelled)} items",
            f"{len(self.suggestions)} suggestions ({made or 'none'})",
            f"{len(self.eligible)} items eligible for training "
            f"(only what was shared or edited with AI)",
        ]
        if videos := self.videos:
            gems = sum(i.is_gem for i in videos)
            junk = Counter(i.junk_reason for i in videos if not i.is_gem)
            lines.append(f"{len(videos)} of them clips: {gems} gems; junk: "
                         f"{', '.join(f'{n} {k}' for k, n in sorted(junk.items())) or 'none'}; "
                         f"{len(self.recaps)} recap movies")
        return lines
