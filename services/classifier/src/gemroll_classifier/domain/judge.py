"""A photo judged by the learned heads (`head.py`): category, blur, darkness, the gem score and
the reasons. Video frames keep the rules of `scorer.assess` (no EXIF, no large decode).

Decisions come from pixels: a head fires at its calibrated threshold. Metadata only
corroborates (its reasons are added to a decision the pixels made), with one exception that
protects photos: a picture with camera EXIF is a screenshot only on overwhelming evidence
(photos of screens are photos).
"""

from __future__ import annotations

import numpy as np

from .detail import DetailStats
from .faces import NO_FACES, FaceStats, face_stats
from .features import MediaFacts, ModelSignals, PixelStats, Prepared
from .head import LearnedHeads, LinearHead, named_features, run_head
from .pixels import luminance
from .scorer import Assessment, QualitySignals, Thresholds, page_aspect
from .screens import is_screen_size

CAMERA_SCREENSHOT_MIN = 0.97  # a camera photo must be this surely a screenshot


def summarize_faces(prepared: Prepared) -> FaceStats:
    """Count, size and sharpness of the faces found on the analysis image."""
    if not prepared.faces:
        return NO_FACES
    return face_stats(prepared.faces, luminance(prepared.rgb))


def photo_features(stats: PixelStats, detail: DetailStats | None,
                   signals: ModelSignals | None, faces: FaceStats = NO_FACES
                   ) -> dict[str, float]:
    """The heads' named features of one photo (the training computes them with this too)."""
    return named_features(stats, detail, signals, faces.count, faces.largest_area,
                          faces.sharpest if faces.count else None)


def _clip(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def _corroborated(probability: float, head: LinearHead, facts: MediaFacts) -> bool:
    """Weak pixel evidence of a screenshot that the metadata backs: an exact screen size and
    no camera EXIF. Metadata alone never decides (the weak evidence must be there)."""
    floor = head.corroborated_threshold
    return (floor is not None and probability >= floor
            and is_screen_size(facts.width, facts.height)
            and not facts.has_camera and not facts.has_capture_exif)


def _corroboration(category: str, facts: MediaFacts) -> list[str]:
    why = []
    if category == "screenshot":
        if is_screen_size(facts.width, facts.height):
            why.append("screenshot:screen_resolution")
        if not facts.has_camera and not facts.has_capture_exif:
            why.append("screenshot:no_camera_exif")
        if facts.file_format == "PNG":
            why.append("screenshot:lossless_png")
    elif category == "document" and page_aspect(facts):
        why.append("document:page_aspect")
    return why


def _category(facts: MediaFacts, named: dict[str, float], embedding: np.ndarray | None,
              heads: LearnedHeads) -> tuple[str, list[str], list[float]]:
    """Category, its reasons, and each category head's probability over twice its threshold."""
    shot = run_head(heads["screenshot"], named, embedding)
    doc = run_head(heads["document"], named, embedding)
    camera_photo = facts.has_camera and shot.probability < CAMERA_SCREENSHOT_MIN
    shot_fired = shot.fired or _corroborated(shot.probability, heads["screenshot"], facts)
    reasons: list[str] = []
    if shot_fired and not camera_photo and (not doc.fired or shot.probability >= doc.probability):
        category = "screenshot"  # below the threshold (corroborated): its reasons all the same
        reasons += shot.reasons or run_head(heads["screenshot"], named, embedding,
                                            force=True).reasons
    elif doc.fired:
        category = "document"
        reasons += doc.reasons
    else:
        category = "photo"
        if facts.has_camera:
            reasons.append("photo:camera_exif")
    margins = [shot.probability / (2 * heads["screenshot"].threshold),
               doc.probability / (2 * heads["document"].threshold)]
    return category, reasons + _corroboration(category, facts), margins


def _photo_quality(stats: PixelStats, named: dict[str, float], heads: LearnedHeads,
                   t: Thresholds) -> tuple[bool, list[str], float, float, list[float]]:
    """(junk, reasons, P(blurry), P(dark), margins) of a photo."""
    dark = run_head(heads["dark"], named, None)
    blur = run_head(heads["blurry"], named, None)
    junk, reasons = False, []
    if dark.fired:
        junk = True
        reasons += dark.reasons or ("dark:low_mean_luminance",)
    elif blur.fired:
        junk = True
        reasons += blur.reasons or ("blurry:soft_detail",)
    if stats.blown_fraction >= t.blown_fraction:
        junk = True
        reasons.append("overexposed:blown_highlights")
    if stats.noise_sigma >= t.noise_sigma and not junk:
        reasons.append("noisy:high_noise_estimate")
    margins = [blur.probability / (2 * heads["blurry"].threshold),
               dark.probability / (2 * heads["dark"].threshold)]
    return junk, reasons, blur.probability, dark.probability, margins


def assess_photo(facts: MediaFacts, stats: PixelStats, detail: DetailStats | None,
                 signals: ModelSignals | None, embedding: np.ndarray | None,
                 heads: LearnedHeads, t: Thresholds, faces: FaceStats = NO_FACES,
                 ) -> Assessment:
    face_sharpness = faces.sharpest if faces.count else None
    named = photo_features(stats, detail, signals, faces)
    category, reasons, margins = _category(facts, named, embedding, heads)
    junk, p_blur, p_dark = category != "photo", 0.0, 0.0
    if category == "photo":
        junk, why, p_blur, p_dark, more = _photo_quality(stats, named, heads, t)
        reasons += why
        margins += more

    crisp = _clip(((detail.sharp_best if detail else 0.25) - 0.25) / 0.75)
    face = crisp if face_sharpness is None else face_sharpness
    exposure = 1.0 - p_dark
    quality = QualitySignals(sharpness=round(1.0 - p_blur, 4), exposure=round(exposure, 4),
                             noise=_clip(stats.noise_sigma / 25.0),
                             brightness=_clip(stats.brightness))
    quality_score = (0.4 * (1.0 - p_blur) + 0.2 * crisp + 0.2 * face + 0.2 * exposure)
    gem_score = _clip(1.0 - max(margins))
    if junk and gem_score >= 0.5:
        gem_score = 0.49  # a rule (overexposure) made it junk
    elif not junk and p_blur < 0.1 and p_dark < 0.1:
        reasons.append("gem:sharp_and_well_exposed")
    return Assessment(category=category, quality=quality, quality_score=round(quality_score, 4),
                      gem_score=round(gem_score, 4), junk=junk, reasons=tuple(reasons))
