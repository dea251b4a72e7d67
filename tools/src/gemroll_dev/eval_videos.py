"""The video slice of `make eval-classifier`: the sample roll's clips, apart from the photos'
metrics (a clip is judged from its frames by other rules, and never joins a photo's group).

A clip's verdict matches its label when gem-or-not agrees and, for junk, one of the
classifier's reasons has a signal the label accepts (a shaky clip may be called `shaky:` or
`blurry:`, as its frames are both).
"""

from __future__ import annotations

import uuid
from typing import Any

from gemroll_contracts import MediaClassifiedData, VideoFacts

ACCEPTED: dict[str | None, frozenset[str]] = {
    None: frozenset({"video"}),
    "shaky": frozenset({"shaky", "blurry"}),
    "blurry": frozenset({"blurry", "shaky"}),
    "dark": frozenset({"dark"}),
    "accidental": frozenset({"accidental"}),
}
"""Junk reason of the label (None: a gem) -> reason signals that count as agreeing."""


def is_clip(item: Any) -> bool:
    return getattr(item, "video", None) is not None


def video_facts(item: Any) -> VideoFacts:
    """What the ingest would have read from the container (the manifest has it)."""
    v = item.video
    return VideoFacts(duration_s=v.duration_s, fps=v.fps, video_codec=v.codec,
                      has_audio=v.has_audio)


def matches(item: Any, result: MediaClassifiedData) -> bool:
    if result.is_gem != item.expected_gem:
        return False
    reason = item.junk_reason.value if item.junk_reason else None
    signals = {code.split(":", 1)[0] for code in result.reasons}
    return bool(signals & ACCEPTED.get(reason, frozenset({reason or "video"})))


def video_slice(clips: dict[uuid.UUID, Any], got: dict[uuid.UUID, MediaClassifiedData]
                ) -> dict[str, Any]:
    """Print one line per clip and return the slice's summary."""
    print(f"\nvideos: {len(clips)} clips (label -> verdict, reasons)")
    matched = 0
    for media_id, item in sorted(clips.items(), key=lambda kv: kv[1].id):
        result = got.get(media_id)
        label = "gem" if item.expected_gem else f"junk {item.junk_reason}"
        if result is None:
            print(f"  {item.id} {item.file_name:28s} {label:16s} -> not classified")
            continue
        ok = matches(item, result)
        matched += ok
        verdict = "gem" if result.is_gem else "junk"
        print(f"  {item.id} {item.file_name:28s} {label:16s} -> {verdict:4s} "
              f"{'ok' if ok else 'MISSED':6s} {', '.join(result.reasons)}")
    gems = [m for m, i in clips.items() if i.expected_gem]
    found = sum(1 for m in gems if m in got and got[m].is_gem)
    print(f"  verdict matches the label on {matched} of {len(clips)} clips")
    return {"support": len(clips), "matched": matched, "gems_expected": len(gems),
            "gems_found": found}
