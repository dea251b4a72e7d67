"""The explainable scorer: category, quality, junk flags and the gem score, each with reasons.

Two steps: `assess` looks at one image alone (metadata, pixels, model labels); `decide` adds
what needs other images or costly models (near duplicates, NSFW) and says gem or not.
Every rule that fires leaves a reason code `<signal>:<detail>`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from .features import MediaFacts, ModelSignals, PixelStats
from .screens import is_screen_size

SCORER_VERSION = "rules-4"


@dataclass(frozen=True)
class Thresholds:
    """Tuned on the sample roll's seed 1 (`make eval-classifier` reports the held-out seed 0)."""

    # screenshot evidence
    flat_screen: float = 0.37  # flat_fraction from here: UI-like flat regions
    palette_screen: float = 0.90  # the 32 most common colours cover this much
    screen_label: float = 0.25  # 'web site', 'monitor', ... probability
    screenshot_min: float = 3.0  # evidence points needed
    # document evidence
    document_label: float = 0.30  # 'menu', 'envelope', 'book jacket', ... probability
    paper: float = 0.40  # bright unsaturated share
    paper_colorfulness: float = 18.0
    text_edges: float = 0.02
    document_min: float = 2.0
    # quality
    blur_tile_var: float = 125.0  # sharpest tile's Laplacian variance below this ...
    blur_directional_var: float = 9.0  # ... and its weakest direction below this: blurry
    defocus_tile_var: float = 56.0  # below this the whole frame is soft (defocus)
    dark_brightness: float = 0.15
    dark_fraction: float = 0.80
    blown_fraction: float = 0.35
    noise_sigma: float = 14.0
    # gems
    gem_score: float = 0.5
    nsfw: float = 0.5


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class QualitySignals:
    sharpness: float
    exposure: float
    noise: float
    brightness: float


@dataclass(frozen=True)
class Assessment:
    """One image judged alone."""

    category: str  # photo | screenshot | document | other
    quality: QualitySignals | None
    quality_score: float  # ranks shots of one scene: higher is better
    gem_score: float  # before duplicates and NSFW
    junk: bool  # blurry, dark, blown out, or not a photo
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def would_be_gem(self) -> bool:
        return not self.junk and self.category == "photo"


@dataclass(frozen=True)
class DuplicateDecision:
    group_id: str | None
    is_best: bool = True
    best_id: str | None = None  # the group's best shot when this one is not
    supersedes: str | None = None  # the earlier best this one beats


@dataclass(frozen=True)
class Verdict:
    category: str
    quality: QualitySignals | None
    quality_score: float
    gem_score: float
    is_gem: bool
    duplicate_group: str | None
    is_best_in_group: bool
    nsfw_score: float | None
    reasons: tuple[str, ...]


def _clip(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo if x < lo else hi if x > hi else x


def _log_scale(value: float, low: float, span: float) -> float:
    return _clip((math.log10(max(value, 1.0)) - low) / span)


def quality_signals(stats: PixelStats) -> QualitySignals:
    sharpness = _log_scale(stats.directional_var, 0.5, 2.0)
    under = _clip((0.30 - stats.brightness) / 0.20) if stats.brightness < 0.30 else 0.0
    over = _clip((stats.blown_fraction - 0.10) / 0.40)
    crushed = _clip((stats.dark_fraction - 0.45) / 0.45)
    exposure = _clip(1.0 - max(under, over, crushed))
    noise = _clip(stats.noise_sigma / 25.0)
    return QualitySignals(sharpness=sharpness, exposure=exposure, noise=noise,
                          brightness=_clip(stats.brightness))


_PAGE_ASPECTS = (2 ** 0.5, 11 / 8.5)  # ISO A-series, US letter


def page_aspect(facts: MediaFacts) -> bool:
    aspect = max(facts.width, facts.height) / max(1, min(facts.width, facts.height))
    return any(abs(aspect - page) / page < 0.015 for page in _PAGE_ASPECTS)


def _screenshot_evidence(facts: MediaFacts, stats: PixelStats, signals: ModelSignals | None,
                         t: Thresholds) -> tuple[float, list[str]]:
    points, why = 0.0, []
    if is_screen_size(facts.width, facts.height):
        points += 2.0
        why.append("screenshot:screen_resolution")
    if not facts.has_camera and not facts.has_capture_exif:
        points += 1.0
        why.append("screenshot:no_camera_exif")
    if facts.file_format == "PNG":
        points += 0.5
        why.append("screenshot:lossless_png")
    if stats.flat_fraction >= t.flat_screen:
        points += 1.5
        why.append("screenshot:flat_regions")
    if stats.palette_fraction >= t.palette_screen:
        points += 0.5
        why.append("screenshot:few_colors")
    if signals is not None and signals.families.get("screen", 0.0) >= t.screen_label:
        points += 1.5
        why.append("screenshot:screen_label")
    if facts.has_camera and stats.flat_fraction < t.flat_screen / 2:
        points -= 2.0  # a camera photo of a screen is still a photo
    return points, why


def _document_evidence(facts: MediaFacts, stats: PixelStats, signals: ModelSignals | None,
                       t: Thresholds) -> tuple[float, list[str]]:
    points, why = 0.0, []
    if signals is not None and signals.families.get("document", 0.0) >= t.document_label:
        points += 2.0
        why.append("document:document_label")
    if stats.paper_fraction >= t.paper and stats.colorfulness <= t.paper_colorfulness:
        points += 1.5
        why.append("document:paper_background")
    if stats.edge_density >= t.text_edges and stats.colorfulness <= 2.5 * t.paper_colorfulness:
        points += 0.5
        why.append("document:text_like_edges")
    if page_aspect(facts) and not is_screen_size(facts.width, facts.height):
        points += 0.5
        why.append("document:page_aspect")
    return points, why


def assess(facts: MediaFacts, stats: PixelStats, signals: ModelSignals | None,
           t: Thresholds = DEFAULT_THRESHOLDS) -> Assessment:
    """Category, quality and gem score of one readable image, with reasons."""
    quality = quality_signals(stats)
    shot_pts, shot_why = _screenshot_evidence(facts, stats, signals, t)
    doc_pts, doc_why = _document_evidence(facts, stats, signals, t)
    is_shot, is_doc = shot_pts >= t.screenshot_min, doc_pts >= t.document_min

    reasons: list[str] = []
    if is_shot and (not is_doc or shot_pts > doc_pts):
        category = "screenshot"
        reasons += shot_why
    elif is_doc:
        category = "document"
        reasons += doc_why
    else:
        category = "photo"
        if facts.has_camera:
            reasons.append("photo:camera_exif")

    junk = category != "photo"
    is_dark = stats.brightness < t.dark_brightness or stats.dark_fraction >= t.dark_fraction
    if category == "photo":
        if is_dark:
            junk = True
            reasons.append("dark:low_mean_luminance" if stats.brightness < t.dark_brightness
                           else "dark:crushed_shadows")
        elif (stats.sharpest_tile_var < t.blur_tile_var
              and stats.directional_var < t.blur_directional_var):
            junk = True
            reasons.append("blurry:low_laplacian_variance"
                           if stats.sharpest_tile_var < t.defocus_tile_var
                           else "blurry:directional_blur")
        if stats.blown_fraction >= t.blown_fraction:
            junk = True
            reasons.append("overexposed:blown_highlights")
        if stats.noise_sigma >= t.noise_sigma and not junk:
            reasons.append("noisy:high_noise_estimate")

    color = _clip(stats.colorfulness / 60.0)
    contrast = _clip(stats.contrast / 0.22)
    crispness = _log_scale(stats.laplacian_var, 1.0, 2.5)
    quality_score = 0.60 * crispness + 0.25 * quality.exposure + 0.15 * (1.0 - quality.noise)
    score = (0.40 * quality.sharpness + 0.25 * quality.exposure + 0.10 * (1.0 - quality.noise)
             + 0.15 * color + 0.10 * contrast)
    if junk:
        score *= 0.35 if category == "photo" else 0.15
    elif quality.sharpness >= 0.7 and quality.exposure >= 0.8:
        reasons.append("gem:sharp_and_well_exposed")
    return Assessment(category=category, quality=quality, quality_score=round(quality_score, 4),
                      gem_score=round(_clip(score), 4), junk=junk, reasons=tuple(reasons))


def unreadable(detail: str) -> Verdict:
    """The verdict for a file that could not be decoded."""
    return Verdict(category="other", quality=None, quality_score=0.0, gem_score=0.0,
                   is_gem=False, duplicate_group=None, is_best_in_group=True, nsfw_score=None,
                   reasons=(f"unreadable:{detail}",))


def decide(a: Assessment, dup: DuplicateDecision, nsfw: float | None,
           t: Thresholds = DEFAULT_THRESHOLDS) -> Verdict:
    """Add near-duplicate and NSFW findings to an assessment and say whether it is a gem."""
    reasons = list(a.reasons)
    score = a.gem_score
    if not dup.is_best and dup.best_id:
        reasons.append(f"duplicate:burst_of:{dup.best_id}")
        score *= 0.5
    elif dup.supersedes:
        reasons.append(f"duplicate:supersedes:{dup.supersedes}")
    if nsfw is not None and nsfw >= t.nsfw:
        reasons.append("nsfw:open_nsfw_score")
        score *= 0.2
    is_gem = (a.would_be_gem and dup.is_best and (nsfw is None or nsfw < t.nsfw)
              and score >= t.gem_score)
    if is_gem:
        reasons.append("gem:best_shot")
    elif a.would_be_gem and dup.is_best and score < t.gem_score:
        reasons.append("gem:low_score")
    return Verdict(category=a.category, quality=a.quality, quality_score=a.quality_score,
                   gem_score=round(_clip(score), 4), is_gem=is_gem,
                   duplicate_group=dup.group_id, is_best_in_group=dup.is_best,
                   nsfw_score=None if nsfw is None else round(_clip(nsfw), 4),
                   reasons=tuple(reasons[:32]))


def with_thresholds(**changes: float) -> Thresholds:
    return replace(DEFAULT_THRESHOLDS, **changes)
