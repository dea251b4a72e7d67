"""A video judged from its sampled key frames (pure): junk reasons, the poster frame, the best
moment, and one `Assessment` that the photo rules' `decide` finishes (NSFW, gem or not).

Each frame is first judged by the photo scorer (`scorer.assess`); here the frames' results
are combined: most frames soft (`blurry:most_frames_soft`), sharpness jumping from frame to
frame (`shaky:sharpness_varies`), most frames dark (`dark:...`), almost black and featureless
(`accidental:pocket_recording`), too short (`accidental:too_short`), frames that look like
a screen (`screen_recording:...`, category screenshot).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .features import PixelStats
from .scorer import DEFAULT_THRESHOLDS, Assessment, QualitySignals, Thresholds


@dataclass(frozen=True)
class VideoRules:
    too_short_s: float = 1.5
    soft_share: float = 0.5  # this share of frames soft: blurry
    jitter: float = 0.10  # log10 sharpness up and down between frames (see `jitter`)
    dark_share: float = 0.5
    near_black: float = 0.012  # a pocket frame's mean luminance is below this ...
    featureless: float = 0.004  # ... or it is dark with a luminance std below this
    pocket_share: float = 0.7
    screen_share: float = 0.6
    moment_min_s: float = 3.0
    moment_max_s: float = 6.0
    moment_tolerance: float = 0.02  # a longer window within this of the best one wins
    junk_factor: float = 0.5


DEFAULT_VIDEO_RULES = VideoRules()


@dataclass(frozen=True)
class FrameResult:
    """One sampled frame: when, its pixel statistics and the photo scorer's judgement."""

    time_s: float
    stats: PixelStats
    assessment: Assessment


@dataclass(frozen=True)
class VideoJudgement:
    assessment: Assessment
    poster_index: int  # into the frames, in the order given
    poster_time_s: float
    best_moment: tuple[float, float]
    frames_sampled: int


def is_soft(s: PixelStats, t: Thresholds) -> bool:
    return s.sharpest_tile_var < t.blur_tile_var and s.directional_var < t.blur_directional_var


def is_dark(s: PixelStats, t: Thresholds) -> bool:
    return s.brightness < t.dark_brightness or s.dark_fraction >= t.dark_fraction


def is_near_black(s: PixelStats, t: Thresholds, r: VideoRules) -> bool:
    return s.brightness < r.near_black or (is_dark(s, t) and s.contrast < r.featureless)


def screen_evidence(frame: FrameResult, t: Thresholds) -> str | None:
    """Why a frame looks like a screen (UI: exactly flat regions in few colours), or None."""
    s, a = frame.stats, frame.assessment
    if is_dark(s, t):
        return None  # dark frames are flat too
    if a.category == "screenshot":
        return next(r.split(":", 1)[1] for r in a.reasons if r.startswith("screenshot:"))
    if s.flat_fraction >= t.flat_screen and s.palette_fraction >= t.palette_screen:
        return "flat_regions"
    return None


def jitter(frames: Sequence[FrameResult], t: Thresholds = DEFAULT_THRESHOLDS) -> float:
    """How much log10 sharpness goes up and down between neighbouring lit frames, beyond
    its net change (a focus pull or one cut is not shake): mean per step."""
    logs = [math.log10(max(f.stats.directional_var, 1.0)) for f in frames
            if not is_dark(f.stats, t)]
    if len(logs) < 5:  # too few frames to tell shake from a change of scene
        return 0.0
    total = sum(abs(b - a) for a, b in zip(logs, logs[1:], strict=False))
    return (total - abs(logs[-1] - logs[0])) / (len(logs) - 1)


def _share(frames: Sequence[FrameResult], test) -> float:  # noqa: ANN001
    return sum(1 for f in frames if test(f)) / len(frames)


def _junk_reasons(frames: Sequence[FrameResult], duration_s: float, t: Thresholds,
                  r: VideoRules) -> list[str]:
    reasons = []
    if duration_s < r.too_short_s:
        reasons.append("accidental:too_short")
    if _share(frames, lambda f: is_near_black(f.stats, t, r)) >= r.pocket_share:
        return [*reasons, "accidental:pocket_recording"]
    if _share(frames, lambda f: is_dark(f.stats, t)) >= r.dark_share:
        low = _share(frames, lambda f: f.stats.brightness < t.dark_brightness) >= r.dark_share
        return [*reasons, "dark:low_mean_luminance" if low else "dark:crushed_shadows"]
    if _share(frames, lambda f: is_soft(f.stats, t)) >= r.soft_share:
        reasons.append("blurry:most_frames_soft")
    elif jitter(frames, t) >= r.jitter:
        reasons.append("shaky:sharpness_varies")
    return reasons


def best_moment(times: Sequence[float], scores: Sequence[float], duration_s: float,
                r: VideoRules = DEFAULT_VIDEO_RULES) -> tuple[float, float]:
    """The window of `moment_min_s`..`moment_max_s` (1 s steps) whose sampled frames score
    best on average; a longer one within `moment_tolerance` wins, then the earlier one.
    Clips shorter than `moment_min_s`: the whole clip."""
    if duration_s <= r.moment_min_s or not times:
        return 0.0, round(duration_s, 3)
    half = duration_s / (2 * len(times))
    candidates: list[tuple[float, float, float]] = []  # (mean, length, start)
    length = r.moment_min_s
    while length <= min(r.moment_max_s, duration_s) + 1e-9:
        for start in {0.0, duration_s - length, *(t - half for t in times)}:
            start = min(max(0.0, start), duration_s - length)
            inside = [s for t, s in zip(times, scores, strict=True)
                      if start - 1e-9 <= t <= start + length + 1e-9]
            if inside:
                candidates.append((statistics.fmean(inside), length, start))
        length += 1.0
    top = max(c[0] for c in candidates)
    best = min((c for c in candidates if c[0] >= top - r.moment_tolerance),
               key=lambda c: (-c[1], c[2]))
    return round(best[2], 3), round(best[2] + best[1], 3)


def _median_quality(frames: Sequence[FrameResult]) -> QualitySignals:
    qs = [f.assessment.quality for f in frames if f.assessment.quality is not None]
    return QualitySignals(*(statistics.median(getattr(q, name) for q in qs)
                            for name in ("sharpness", "exposure", "noise", "brightness")))


def judge(frames: Sequence[FrameResult], duration_s: float, t: Thresholds = DEFAULT_THRESHOLDS,
          r: VideoRules = DEFAULT_VIDEO_RULES) -> VideoJudgement:
    """The video's judgement from its frames (at least one, in time order)."""
    if not frames:
        raise ValueError("a video is judged from at least one frame")
    reasons = _junk_reasons(frames, duration_s, t, r)
    evidence = [e for e in (screen_evidence(f, t) for f in frames) if e]
    screen = not reasons and len(evidence) / len(frames) >= r.screen_share
    if screen:
        reasons.append(f"screen_recording:{Counter(evidence).most_common(1)[0][0]}")
    junk = bool(reasons)
    quality = _median_quality(frames)
    scores = [f.assessment.gem_score for f in frames]
    gem = statistics.median(scores) * (r.junk_factor if junk else 1.0)
    if not junk:
        reasons.append("video:steady")
        if quality.sharpness >= 0.7 and quality.exposure >= 0.8:
            reasons.append("gem:sharp_and_well_exposed")
    poster = max(range(len(frames)), key=lambda i: (scores[i], -i))
    assessment = Assessment(
        category="screenshot" if screen else "photo", quality=quality,
        quality_score=round(statistics.median(f.assessment.quality_score for f in frames), 4),
        gem_score=round(min(1.0, gem), 4), junk=junk, reasons=tuple(reasons))
    return VideoJudgement(
        assessment=assessment, poster_index=poster, poster_time_s=round(frames[poster].time_s, 3),
        best_moment=best_moment([f.time_s for f in frames], scores, duration_s, r),
        frames_sampled=len(frames))
