"""The pure video rules (domain/video.py): each rule fires on its case and not on the others,
the best moment and the poster are where the quality is."""

from __future__ import annotations

import dataclasses

import pytest
from gemroll_classifier.domain.features import PixelStats, video_frame_facts
from gemroll_classifier.domain.scorer import DEFAULT_THRESHOLDS, assess
from gemroll_classifier.domain.video import (
    DEFAULT_VIDEO_RULES,
    FrameResult,
    best_moment,
    jitter,
    judge,
)

GOOD = PixelStats(brightness=0.45, dark_fraction=0.05, blown_fraction=0.01, contrast=0.14,
                  laplacian_var=70.0, noise_sigma=0.9, flat_fraction=0.06, edge_density=0.05,
                  colorfulness=40.0, palette_fraction=0.6, paper_fraction=0.05,
                  sharpest_tile_var=270.0, directional_var=50.0)
SOFT = dataclasses.replace(GOOD, laplacian_var=9.0, sharpest_tile_var=30.0, directional_var=3.0)
DARK = dataclasses.replace(GOOD, brightness=0.021, dark_fraction=0.99, contrast=0.008,
                           laplacian_var=1.0, sharpest_tile_var=1.0, directional_var=0.3)
POCKET = dataclasses.replace(DARK, brightness=0.002, contrast=0.002, laplacian_var=0.0,
                             sharpest_tile_var=0.0, directional_var=0.05)
SCREEN = dataclasses.replace(GOOD, flat_fraction=0.55, palette_fraction=1.0, paper_fraction=0.6,
                             colorfulness=10.0)


def frame(t: float, stats: PixelStats) -> FrameResult:
    return FrameResult(t, stats, assess(video_frame_facts(448, 252), stats, None))


def clip(stats: list[PixelStats], duration: float = 10.0) -> list[FrameResult]:
    return [frame(duration * (i + 0.5) / len(stats), s) for i, s in enumerate(stats)]


def judged(stats: list[PixelStats], duration: float = 10.0):  # noqa: ANN201
    return judge(clip(stats, duration), duration)


def sharpness(values: list[float]) -> list[PixelStats]:
    return [dataclasses.replace(GOOD, directional_var=v) for v in values]


def test_a_steady_clip_is_a_gem_candidate():
    j = judged([GOOD] * 12).assessment
    assert not j.junk and j.category == "photo" and j.gem_score >= 0.5
    assert "video:steady" in j.reasons


def test_most_frames_soft_is_blurry():
    j = judged([SOFT] * 7 + [GOOD] * 5).assessment
    assert j.junk and "blurry:most_frames_soft" in j.reasons
    assert not judged([SOFT] * 5 + [GOOD] * 7).assessment.junk  # a minority is fine


def test_sharpness_jumping_from_frame_to_frame_is_shaky():
    shaky = sharpness([14, 20, 12, 22, 13, 44, 16, 21, 12, 18, 25, 13])
    steady = sharpness([35, 41, 44, 50, 58, 50, 36, 42, 47, 50, 56, 47])
    assert jitter(clip(shaky)) >= DEFAULT_VIDEO_RULES.jitter > jitter(clip(steady))
    assert "shaky:sharpness_varies" in judged(shaky).assessment.reasons
    assert not judged(steady).assessment.junk
    focus_pull = sharpness([3, 3, 3, 3, 3, 50, 50, 50, 50, 50, 50, 50])
    assert jitter(clip(focus_pull)) == 0.0  # one change of sharpness is not shake


def test_dark_clip():
    j = judged([DARK] * 12).assessment
    assert j.junk and j.reasons == ("dark:low_mean_luminance",)
    assert not judged([DARK] * 5 + [GOOD] * 7).assessment.junk


def test_pocket_recording_is_accidental_not_merely_dark():
    j = judged([POCKET] * 12).assessment
    assert j.junk and j.reasons == ("accidental:pocket_recording",)
    assert "accidental:pocket_recording" not in judged([DARK] * 12).assessment.reasons


@pytest.mark.parametrize(("duration", "short"), [(1.0, True), (1.49, True), (1.5, False)])
def test_too_short(duration, short):
    j = judge(clip([GOOD] * 4, duration), duration).assessment
    assert ("accidental:too_short" in j.reasons) is short and j.junk is short


def test_frames_like_a_screen_make_a_screen_recording():
    j = judged([SCREEN] * 12).assessment
    assert j.category == "screenshot" and j.junk
    assert j.reasons == ("screen_recording:flat_regions",)
    assert judged([SCREEN] * 4 + [GOOD] * 8).assessment.category == "photo"


def test_poster_is_the_best_frame():
    stats = [SOFT] * 12
    stats[7] = GOOD
    j = judged(stats)
    assert j.poster_index == 7 and j.poster_time_s == pytest.approx(10 * 7.5 / 12, abs=1e-3)


def test_best_moment_is_the_sustained_stretch():
    times = [i + 0.5 for i in range(10)]
    scores = [0.2, 0.2, 0.2, 0.2, 0.9, 0.9, 0.9, 0.2, 0.95, 0.2]
    assert best_moment(times, scores, 10.0) == (4.0, 7.0)
    # a single best frame does not beat a sustained stretch of nearly its quality
    flat = [0.8] * 10
    assert best_moment(times, flat, 10.0) == (0.0, 6.0)  # the longest window, then earliest


def test_best_moment_is_clamped_to_the_clip():
    assert best_moment([0.5, 1.5, 2.5, 3.5], [0.1, 0.1, 0.1, 0.9], 4.0) == (1.0, 4.0)
    assert best_moment([0.5, 1.5], [0.5, 0.9], 2.0) == (0.0, 2.0)  # shorter than 3 s: all
    start, end = best_moment([i + 0.5 for i in range(20)], [0.5] * 20, 20.0)
    assert 3.0 <= end - start <= 6.0 and 0 <= start and end <= 20.0


def test_quality_and_scores_come_from_the_frames():
    j = judged([GOOD] * 12).assessment
    one = assess(video_frame_facts(448, 252), GOOD, None)
    assert j.quality == one.quality and j.quality_score == one.quality_score
    junk = judged([SOFT] * 12).assessment
    assert junk.gem_score < 0.5 * j.gem_score


def test_no_frames_is_an_error():
    with pytest.raises(ValueError):
        judge([], 3.0)


def test_thresholds_are_used():
    stricter = dataclasses.replace(DEFAULT_THRESHOLDS, blur_tile_var=1000.0,
                                   blur_directional_var=100.0)
    reasons = judge(clip([GOOD] * 12), 10.0, stricter).assessment.reasons
    assert "blurry:most_frames_soft" in reasons
