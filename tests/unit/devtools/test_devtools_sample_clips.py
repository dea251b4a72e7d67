"""The sample roll's clips: their plan and labels, their manifest items, the reuse check that
rebuilds a roll from before the clips, and the classifier evaluation's video slice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gemroll_common.video import VideoProbe
from gemroll_contracts import MediaClassifiedData
from gemroll_dev.demo import sample_kind
from gemroll_dev.eval_videos import matches, video_facts
from gemroll_dev.samples import catalog
from gemroll_dev.samples.manifest import Category, JunkReason, Manifest, QualityLabel
from gemroll_dev.samples.reuse import current_roll, planned_names
from gemroll_dev.samples.video_build import _item, debian_needs
from gemroll_dev.samples.video_plan import ClipRecipe, RealClipRecipe, plan_clips


def test_same_seed_same_clips_and_another_seed_other_ones():
    assert plan_clips("demo", 3) == plan_clips("demo", 3)
    assert [c.recipe for c in plan_clips("demo", 3)] != [c.recipe for c in plan_clips("demo", 4)]
    assert plan_clips("bench", 0) == []
    assert len(plan_clips("eval", 0)) == 9


def test_the_demo_roll_has_each_kind_of_clip_labelled_honestly():
    clips = plan_clips("demo", 0)
    labels = {c.variant: (c.expected_gem, c.junk_reason) for c in clips}
    assert labels == {"clip:pan": (True, None), "clip:shake": (False, JunkReason.shaky),
                      "clip:pocket": (False, JunkReason.accidental),
                      "clip:dark": (False, JunkReason.dark), "clip:real": (True, None)}
    synthetic = [c for c in clips if isinstance(c.recipe, ClipRecipe)]
    for c in synthetic:
        assert c.recipe.source in catalog.PHOTO_BY_KEY  # a real photo moves in every clip
        assert c.recipe.size == (640, 360) and 4 <= c.recipe.seconds <= 6
        assert c.captured_at is not None and c.captured_at.tzinfo is not None
        assert c.file_name.endswith(".MOV" if c.recipe.container == "mov" else ".mp4")
    assert sum(c.gps is not None for c in synthetic) == 3  # the pocket recording has none
    real = [c for c in clips if isinstance(c.recipe, RealClipRecipe)]
    assert [(c.recipe.key, c.file_name, c.captured_at) for c in real] == [
        ("android-dog", "VID_20191220_170832.mp4", None)]  # the container's own time
    assert debian_needs(clips) == [(
        "forensics-samples-files",
        "/usr/share/forensics-samples/original-files/movie1/VID_20191220_170832.mp4")]
    photos = set(planned_names("demo", 0)[: -len(clips)])
    assert not photos & {c.file_name for c in clips}


def probe_of(clip, *, created: datetime | None = None) -> VideoProbe:
    seconds = clip.recipe.seconds if isinstance(clip.recipe, ClipRecipe) else 1.517
    return VideoProbe(container="mov,mp4,m4a,3gp,3g2,mj2", video_codec="h264", width=640,
                      height=360, duration_s=seconds, fps=24.0, has_audio=True, rotation=0,
                      created_at=created, location=(-15.8355, -48.0153) if created else None)


def clip_items():
    items = []
    for clip in plan_clips("demo", 0):
        created = datetime(2019, 12, 20, 20, 8, 34, tzinfo=UTC)
        at = clip.captured_at or created
        items.append(_item(clip, probe_of(clip, created=None if clip.captured_at else created),
                           at, 1000, "0" * 64))
    return items


def test_clip_items_pass_the_manifests_label_rules():
    items = clip_items()
    manifest = Manifest(size="demo", seed=0, events=list(catalog.EVENTS), items=items)
    assert Manifest.model_validate_json(manifest.model_dump_json()) == manifest
    assert {i.category for i in items} == {Category.video}
    assert manifest.counts()["video/good"] == 2 and manifest.counts()["gems"] == 2
    real = items[-1]
    assert real.gps is not None and real.gps.lat == -15.8355  # from the container
    assert real.source.package == "forensics-samples-files"
    assert {i.content_type for i in items} == {"video/mp4", "video/quicktime"}
    assert [sample_kind(i) for i in items if i.expected_gem] == ["steady clip", "real clip"]
    assert video_facts(real).duration_s == pytest.approx(1.517)
    broken = items[0].model_copy(update={"quality": QualityLabel.good})
    with pytest.raises(ValueError, match="expected_gem contradicts"):
        Manifest(size="demo", seed=0, events=list(catalog.EVENTS), items=[broken])


def test_a_roll_from_before_the_clips_is_not_reused(tmp_path: Path):
    items = clip_items()
    Manifest(size="demo", seed=0, events=list(catalog.EVENTS), items=items).write(tmp_path)
    assert current_roll(tmp_path, "demo", 0) is None  # the photos are missing from it
    assert current_roll(tmp_path / "nothing", "demo", 0) is None


def verdict(item, *, gem: bool, reasons: list[str]) -> MediaClassifiedData:
    return MediaClassifiedData(
        media_id=uuid.uuid4(), user_key="e" * 32, bucket="gemroll-media",
        object_key=f"eval/{item.id}", width=640, height=360, category="photo",
        gem_score=0.8 if gem else 0.1, is_gem=gem, reasons=reasons,
        model={"name": "m", "version": "1"}, media_kind="video")


def test_the_eval_video_slice_accepts_the_signals_a_label_allows():
    pan, shake, dark, pocket, real = (clip_items()[i] for i in (1, 0, 2, 3, 4))
    assert pan.variant == "clip:pan" and shake.variant == "clip:shake"
    assert matches(pan, verdict(pan, gem=True, reasons=["video:steady"]))
    assert not matches(pan, verdict(pan, gem=False, reasons=["blurry:most_frames_soft"]))
    assert matches(shake, verdict(shake, gem=False, reasons=["shaky:sharpness_varies"]))
    assert matches(shake, verdict(shake, gem=False, reasons=["blurry:most_frames_soft"]))
    assert not matches(shake, verdict(shake, gem=True, reasons=["video:steady"]))
    assert matches(pocket, verdict(pocket, gem=False,
                                   reasons=["accidental:pocket_recording"]))
    assert not matches(dark, verdict(dark, gem=False, reasons=["accidental:too_short"]))
    assert matches(real, verdict(real, gem=True, reasons=["video:steady", "gem:best_shot"]))
