"""Videos join events like photos: highlights and collages show them by their poster frame,
photo edits never take them, a video without a poster is left out of what is rendered, and a
share link serves the poster, never the clip's bytes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from gemroll_common.video import probe
from gemroll_contracts import (
    ErasureReason,
    MediaErased,
    MediaErasedData,
    Moment,
    SuggestionKind,
    VideoVerdict,
)
from gemroll_suggester.domain import Consent, Outcome
from gemroll_suggester.domain.model import recap_key
from gemroll_suggester.usecases import intake, recaps
from gemroll_suggester.usecases.planning import Planner
from gemroll_suggester.usecases.user_actions import ImageMissing, NotFound


def video(kit, *, poster: bool = True, **kw):
    event = kit.classified(**kw)
    d = event.data
    verdict = VideoVerdict(
        duration_s=12.0, frames_sampled=12, poster_time_s=4.0,
        best_moment=Moment(start_s=3.0, end_s=7.5),
        poster_key=f"users/{d.user_key}/posters/{d.media_id}.jpg" if poster else None)
    data = replace_data(d, object_key=f"users/{d.user_key}/media/{d.media_id}.mov",
                        media_kind="video", video=verdict)
    return event.model_copy(update={"data": data})


def replace_data(data, **changes):
    return data.model_copy(update=changes)


async def arrive(world, kit, events) -> list[Outcome]:
    outcomes = []
    for i, event in enumerate(events):
        d = event.data
        picture = d.video.poster_key if d.media_kind == "video" else d.object_key
        if picture is not None:
            world.storage.objects[picture] = kit.jpeg_bytes(i, d.width, d.height)
        if d.media_kind == "video":
            world.storage.objects[d.object_key] = b"\x00\x00\x00\x14ftypqt  not a picture"
        outcomes.append(await intake.media_classified(world.deps, event))
    return outcomes


async def plan(world) -> None:
    world.clock.advance(61)
    planner = Planner(world.deps)
    while await planner.run_once() > 0:
        pass


async def test_a_video_is_kept_with_its_poster_and_best_moment(world, kit):
    clip = video(kit)
    assert await arrive(world, kit, [clip]) == [Outcome.stored]
    kept = world.state.media[clip.data.media_id]
    assert kept.is_video and kept.poster_key == clip.data.video.poster_key
    assert kept.best_moment == (3.0, 7.5)
    assert kept.picture_key == kept.poster_key


async def test_videos_join_highlights_and_collages_but_never_photo_edits(world, kit):
    clips = [video(kit, minutes=20 * i, seed=i, gem_score=0.95 - i * 0.01) for i in range(2)]
    shots = [kit.classified(minutes=20 * i + 10, seed=10 + i, gem_score=0.6) for i in range(2)]
    await arrive(world, kit, [*clips, *shots])
    await plan(world)
    highlight = world.suggestions(SuggestionKind.highlight)[0]
    assert {c.data.media_id for c in clips} <= set(highlight.media_ids)
    assert highlight.preview_object_key in world.storage.objects
    edited = {s.media_ids[0] for s in world.suggestions(SuggestionKind.edit)}
    assert edited and edited.isdisjoint({c.data.media_id for c in clips})


async def test_a_video_without_a_poster_is_left_out_of_what_is_rendered(world, kit):
    events = [video(kit, poster=False, gem_score=0.99),
              *[kit.classified(minutes=10 * i + 5, seed=i) for i in range(3)]]
    await arrive(world, kit, events)
    await plan(world)
    shown = {i for s in world.suggestions() for i in s.media_ids}
    assert events[0].data.media_id not in shown and shown
    assert world.state.media[events[0].data.media_id].unrenderable


async def test_a_later_media_kind_is_not_taken_in(world, kit):
    event = kit.classified()
    event = event.model_copy(update={"data": replace_data(event.data, media_kind="hologram")})
    assert await arrive(world, kit, [event]) == [Outcome.not_a_photo]


def test_a_plan_changes_when_a_poster_arrives(kit):
    from gemroll_suggester.domain.intake import media_item
    item = media_item(video(kit))
    assert item.plan_fields() != replace(item, poster_key=None).plan_fields()


async def test_a_shared_highlight_shows_a_video_by_its_poster_never_its_bytes(world, kit):
    from gemroll_suggester.domain import ActionName
    from gemroll_suggester.domain.sharing import shared_photos
    from gemroll_suggester.usecases import sharing, user_actions

    world.state.consent[kit.USER] = Consent(kit.USER, True, 1, kit.T0)
    clips = [video(kit, minutes=20 * i, seed=i, gem_score=0.95) for i in range(3)]
    await arrive(world, kit, clips)
    await plan(world)
    highlight = world.suggestions(SuggestionKind.highlight)[0]
    await user_actions.act(world.deps, kit.USER, highlight.suggestion_id, ActionName.share)
    link = await sharing.link_for(world.deps, kit.USER, highlight.suggestion_id)
    shown = world.state.suggestions[highlight.suggestion_id]
    for index, media_id in enumerate(shared_photos(shown), start=1):
        data, content_type = await sharing.shared_image(world.deps, link.token, index)
        assert content_type == "image/jpeg" and data.startswith(b"\xff\xd8")
        assert kit.image_size(data) == kit.image_size(
            world.storage.objects[world.state.media[media_id].poster_key])


def real_video(kit, world, *, seconds: float = 6.0, **kw):
    """A clip the recap can decode: the classifier's best moment is 2-4.5 s."""
    from gemroll_testkit import clips

    event = video(kit, **kw)
    data = event.data.model_copy(update={"video": event.data.video.model_copy(update={
        "best_moment": Moment(start_s=2.0, end_s=4.5)})})
    event = event.model_copy(update={"data": data})
    return event, clips.clip(container="mov", size=(320, 240), fps=24, seconds=seconds)


async def highlight_with_a_video(world, kit):
    world.state.consent[kit.USER] = Consent(kit.USER, True, 1, kit.T0)
    clip, movie = real_video(kit, world, gem_score=0.95)
    shots = [kit.classified(minutes=15 * i + 5, seed=i, gem_score=0.9) for i in range(3)]
    await arrive(world, kit, [clip, *shots])
    world.storage.objects[clip.data.object_key] = movie
    await plan(world)
    [highlight] = world.suggestions(SuggestionKind.highlight)
    assert clip.data.media_id in highlight.media_ids
    return highlight, clip


async def test_a_recap_movie_is_made_once_of_the_photos_and_the_best_moment(world, kit,
                                                                           tmp_path):
    highlight, _ = await highlight_with_a_video(world, kit)
    data, revision = await recaps.recap_movie(world.deps, kit.USER, highlight.suggestion_id)
    assert revision == highlight.revision
    key = recap_key(kit.USER, highlight.suggestion_id, highlight.revision)
    assert world.storage.objects[key] == data
    movie = tmp_path / "recap.mp4"
    movie.write_bytes(data)
    facts = probe(movie)
    style = recaps.style_of(world.deps)
    assert (facts.width, facts.height) == (style.width, style.height)
    assert facts.video_codec == "h264" and not facts.has_audio
    stills = len(highlight.media_ids) - 1  # title card, the photos, the 2.5 s best moment
    assert facts.duration_s == pytest.approx(style.title_s + stills * style.still_s + 2.5,
                                             abs=0.2)
    world.storage.objects[key] = b"kept"  # the second ask is served from the store
    assert (await recaps.recap_movie(world.deps, kit.USER, highlight.suggestion_id))[0] == b"kept"


async def test_only_the_users_own_highlight_has_a_recap(world, kit):
    highlight, _ = await highlight_with_a_video(world, kit)
    with pytest.raises(NotFound):
        await recaps.recap_movie(world.deps, kit.OTHER, highlight.suggestion_id)
    [collage] = world.suggestions(SuggestionKind.collage)
    with pytest.raises(ImageMissing):
        await recaps.recap_movie(world.deps, kit.USER, collage.suggestion_id)


async def test_a_photo_deleted_while_the_movie_renders_wins(world, kit, monkeypatch):
    """The deletion commits between the render and the store's write: the movie, which still
    shows the deleted photo, is deleted at once and not served."""
    highlight, clip = await highlight_with_a_video(world, kit)
    render = recaps._render

    async def render_then_delete(deps, found):
        data = await render(deps, found)
        await intake.media_erased(world.deps, MediaErased(producer="ingest", data=MediaErasedData(
            user_key=kit.USER, media_ids=[clip.data.media_id],
            reason=ErasureReason.media_deleted, erased_at=world.clock())))
        return data

    monkeypatch.setattr(recaps, "_render", render_then_delete)
    with pytest.raises(ImageMissing):
        await recaps.recap_movie(world.deps, kit.USER, highlight.suggestion_id)
    assert not [k for k in world.storage.objects if k.endswith(".mp4")]


async def test_a_revision_drops_the_old_movie(world, kit):
    highlight, clip = await highlight_with_a_video(world, kit)
    await recaps.recap_movie(world.deps, kit.USER, highlight.suggestion_id)
    old = recap_key(kit.USER, highlight.suggestion_id, highlight.revision)
    late = kit.classified(minutes=50, seed=9, gem_score=0.97)
    await arrive(world, kit, [late])
    await plan(world)
    [now] = world.suggestions(SuggestionKind.highlight)
    assert now.revision > highlight.revision and old not in world.storage.objects


async def test_each_video_of_a_suggestion_is_trimmed_to_its_best_moment(world, kit, tmp_path):
    highlight, clip = await highlight_with_a_video(world, kit)
    [moment] = await recaps.moments(world.deps, kit.USER, highlight.suggestion_id)
    assert (moment.media_id, moment.start_s, moment.end_s) == (clip.data.media_id, 2.0, 4.5)
    data = await recaps.moment_clip(world.deps, kit.USER, highlight.suggestion_id,
                                    clip.data.media_id)
    trimmed = tmp_path / "moment.mp4"
    trimmed.write_bytes(data)
    facts = probe(trimmed)  # key frames every second: 2 s to the key frame after 4.5 s
    assert facts.duration_s == pytest.approx(3.0, abs=0.1) and not facts.has_audio
    with pytest.raises(ImageMissing):
        await recaps.moment_clip(world.deps, kit.USER, highlight.suggestion_id,
                                 highlight.media_ids[-1] if highlight.media_ids[-1]
                                 != clip.data.media_id else highlight.media_ids[0])
    with pytest.raises(NotFound):
        await recaps.moments(world.deps, kit.OTHER, highlight.suggestion_id)
