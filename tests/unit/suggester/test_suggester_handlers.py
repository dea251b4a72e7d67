"""Use cases with in-memory fakes: classification, quiet period, planning, late photos,
redelivery, never-suggest rules, removal, consent and actions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from gemroll_contracts import (
    ConsentChanged,
    ConsentChangedData,
    ErasureReason,
    MediaErased,
    MediaErasedData,
    SuggestionCreated,
    SuggestionKind,
    TrainingCandidate,
    UserAction,
    UserActionData,
)
from gemroll_contracts.users import ActionKind
from gemroll_suggester.domain import ActionName, ActionRefused, Outcome, SuggestionStatus
from gemroll_suggester.usecases import intake, user_actions
from gemroll_suggester.usecases.planning import Planner


async def arrive(world, kit, *events, seeds=None) -> list[Outcome]:
    outcomes = []
    for i, event in enumerate(events):
        kit.put_original(world, event, seed=(seeds or {}).get(i, i))
        outcomes.append(await intake.media_classified(world.deps, event))
    return outcomes


async def settle(world, seconds: float = 61) -> int:
    world.clock.advance(seconds)
    planner, planned = Planner(world.deps), 0
    while (n := await planner.run_once()) > 0:
        planned += n
    return planned


def afternoon(kit, n=4, **kw):
    return [kit.classified(minutes=20 * i, seed=i, gem_score=0.9 - i * 0.05, **kw)
            for i in range(n)]


async def test_an_event_is_planned_only_after_its_quiet_period(world, kit):
    await arrive(world, kit, *afternoon(kit))
    assert len(world.state.events) == 1
    event = next(iter(world.state.events.values()))
    assert event.dirty and event.due_at == world.clock.now + timedelta(seconds=60)
    assert await settle(world, 30) == 0 and world.suggestions() == []
    assert await settle(world, 31) == 1
    kinds = sorted(s.kind for s in world.suggestions())
    assert SuggestionKind.highlight in kinds and SuggestionKind.collage in kinds
    created = world.published("gemroll.suggestions")
    assert len(created) == len(world.suggestions())
    assert all(isinstance(e, SuggestionCreated) and e.data.revision == 1 for e in created)
    highlight = world.suggestions(SuggestionKind.highlight)[0]
    assert highlight.title == "Saturday afternoon, 14 Mar 2026 · Lisbon"
    assert highlight.preview_object_key in world.storage.objects
    assert highlight.preview_object_key.startswith(
        f"users/{kit.USER}/suggestions/{highlight.suggestion_id}/")
    assert not next(iter(world.state.events.values())).dirty


async def test_dark_photos_get_edit_suggestions_with_a_recipe_and_preview(world, kit):
    events = afternoon(kit, 3)
    for i, e in enumerate(events):
        kit.put_original(world, e, seed=i, exposure_stops=-1.5)
        await intake.media_classified(world.deps, e)
    await settle(world)
    edits = world.suggestions(SuggestionKind.edit)
    assert len(edits) == 2  # edits_per_event, the best gems first
    assert {e.media_ids[0] for e in edits} == {events[0].data.media_id, events[1].data.media_id}
    for edit in edits:
        assert edit.recipe is not None and edit.recipe.exposure > 0.5
        assert max(kit.image_size(world.storage.objects[edit.preview_object_key])) <= 320


async def test_late_photo_revises_the_same_suggestion(world, kit):
    await arrive(world, kit, *afternoon(kit, 3))
    await settle(world)
    first = world.suggestions(SuggestionKind.highlight)[0]
    late = kit.classified(minutes=70, seed=7, gem_score=0.95)
    assert await arrive(world, kit, late, seeds={0: 7}) == [Outcome.stored]
    await settle(world)
    highlights = world.suggestions(SuggestionKind.highlight)
    assert len(highlights) == 1
    revised = highlights[0]
    assert revised.suggestion_id == first.suggestion_id and revised.revision == 2
    assert late.data.media_id in revised.media_ids
    assert first.preview_object_key not in world.storage.objects  # the old preview is gone
    revisions = [e.data.revision for e in world.published("gemroll.suggestions")
                 if e.data.suggestion_id == first.suggestion_id]
    assert revisions == [1, 2]


async def test_redelivery_never_duplicates(world, kit):
    events = afternoon(kit, 3)
    await arrive(world, kit, *events)
    await settle(world)
    before = (dict(world.state.suggestions), len(world.state.outbox))
    assert await arrive(world, kit, *events) == [Outcome.duplicate] * 3
    assert await settle(world) == 0
    assert (dict(world.state.suggestions), len(world.state.outbox)) == before
    # a re-classification that changes nothing relevant does not re-plan either
    again = events[0].model_copy(update={"event_id": uuid.uuid4(),
                                         "occurred_at": events[0].occurred_at + timedelta(1)})
    assert await intake.media_classified(world.deps, again) == Outcome.unchanged
    assert await settle(world) == 0


async def test_a_batch_of_classifications_is_one_transaction_applied_in_topic_order(
        world, kit):
    mine = afternoon(kit, 3)
    theirs = [kit.classified(user=kit.OTHER, minutes=20 * i, seed=10 + i) for i in range(2)]
    again = mine[0].model_copy(update={"event_id": uuid.uuid4(),
                                       "occurred_at": mine[0].occurred_at + timedelta(1)})
    batch = [theirs[0], mine[0], mine[1], again, theirs[1], mine[2]]
    for i, event in enumerate(batch):
        kit.put_original(world, event, seed=i)
    outcomes = await intake.media_classified_batch(world.deps, batch)
    assert outcomes == [Outcome.stored, Outcome.stored, Outcome.stored, Outcome.unchanged,
                        Outcome.stored, Outcome.stored]
    assert world.state.locked_users == sorted({kit.USER, kit.OTHER})  # once each, in order
    assert len(world.state.events) == 2  # one per user: the batch grouped them as one by one
    assert await settle(world) == 2


async def test_a_batch_that_fails_leaves_nothing_behind(world, kit, monkeypatch):
    good, bad = afternoon(kit, 2)
    kit.put_original(world, good)
    kit.put_original(world, bad, seed=1)
    real = intake._classified

    async def failing(deps, tx, event, now):  # noqa: ANN001, ANN202
        if event.event_id == bad.event_id:
            raise ConnectionResetError("database went away")
        return await real(deps, tx, event, now)

    monkeypatch.setattr(intake, "_classified", failing)
    with pytest.raises(ConnectionResetError):
        await intake.media_classified_batch(world.deps, [good, bad])
    assert world.state.media == {} and world.state.events == {}  # the runner retries it all


async def test_an_older_classification_arriving_late_is_ignored(world, kit):
    newer = kit.classified()
    older = newer.model_copy(update={"event_id": uuid.uuid4(),
                                     "occurred_at": newer.occurred_at - timedelta(hours=1)})
    await arrive(world, kit, newer)
    assert await intake.media_classified(world.deps, older) == Outcome.stale


async def test_never_suggest_non_gems_nsfw_or_screenshots(world, kit):
    from gemroll_contracts import Category

    events = [kit.classified(minutes=0, seed=1, gem=False, gem_score=0.99),
              kit.classified(minutes=5, seed=2, nsfw=0.97, gem_score=0.98),
              kit.classified(minutes=10, seed=3, gem_score=0.7),
              kit.classified(minutes=15, seed=4, gem_score=0.6),
              kit.classified(minutes=20, seed=5, category=Category.screenshot)]
    outcomes = await arrive(world, kit, *events)
    assert outcomes[-1] is Outcome.not_a_photo
    await settle(world)
    shared = [s for s in world.suggestions() if s.kind is not SuggestionKind.edit]
    assert shared and all(events[0].data.media_id not in s.media_ids for s in shared)
    assert all(events[1].data.media_id not in s.media_ids for s in shared)
    assert world.suggestions(SuggestionKind.highlight) == []  # only 2 shareable gems
    for s in world.suggestions():
        assert events[0].data.media_id not in s.media_ids
        assert events[4].data.media_id not in s.media_ids


async def test_a_photo_bridging_two_events_merges_them(world, kit):
    morning = [kit.classified(minutes=m, seed=i) for i, m in enumerate((-300, -280, -260))]
    evening = [kit.classified(minutes=m, seed=i + 3) for i, m in enumerate((60, 80, 100))]
    await arrive(world, kit, *morning, *evening)
    await settle(world)
    assert len(world.state.events) == 2
    assert len(world.suggestions(SuggestionKind.highlight)) == 2
    await arrive(world, kit, kit.classified(minutes=-100, seed=9))
    await settle(world)
    assert len(world.state.events) == 1
    highlights = world.suggestions(SuggestionKind.highlight)
    statuses = sorted(s.status.value for s in highlights)
    assert statuses == ["proposed", "withdrawn"]


async def test_deleted_photo_leaves_its_suggestions_and_never_comes_back(world, kit):
    events = afternoon(kit, 4)
    for i, e in enumerate(events):
        kit.put_original(world, e, seed=i, exposure_stops=-1.5)
        await intake.media_classified(world.deps, e)
    await settle(world)
    victim = events[0].data.media_id
    highlight = world.suggestions(SuggestionKind.highlight)[0]
    assert victim in highlight.media_ids
    edit = next(s for s in world.suggestions(SuggestionKind.edit) if s.media_ids == (victim,))
    deleted = UserAction(producer="ingest", data=UserActionData(
        user_key=kit.USER, media_id=victim, action=ActionKind.media_deleted,
        acted_at=world.clock.now))
    assert await intake.user_action(world.deps, deleted) == Outcome.removed
    assert edit.suggestion_id not in world.state.suggestions
    assert highlight.preview_object_key not in world.storage.objects
    assert edit.preview_object_key not in world.storage.objects
    await settle(world, 1)  # re-planned at once, no quiet period
    revised = world.suggestions(SuggestionKind.highlight)[0]
    # r2 was published at once without the photo (and without a preview), r3 has a new one
    assert revised.revision == 3 and victim not in revised.media_ids
    assert revised.preview_object_key is not None
    assert await intake.media_classified(world.deps, events[0].model_copy(
        update={"event_id": uuid.uuid4()})) == Outcome.removed


async def test_erasure_removes_renditions_and_empty_suggestions(world, kit):
    events = afternoon(kit, 2)
    for i, e in enumerate(events):
        kit.put_original(world, e, seed=i, exposure_stops=-1.5)
        await intake.media_classified(world.deps, e)
    await settle(world)
    edit = world.suggestions(SuggestionKind.edit)[0]
    result = await user_actions.act(world.deps, kit.USER, edit.suggestion_id, ActionName.edit)
    derived = world.state.derived[result.derived_media_id]
    assert derived.object_key in world.storage.objects
    erased = MediaErased(producer="policy", data=MediaErasedData(
        user_key=kit.USER, media_ids=[e.data.media_id for e in events],
        reason=ErasureReason.account_erasure, erased_at=world.clock.now))
    await intake.media_erased(world.deps, erased)
    assert world.suggestions() == []
    assert world.state.derived == {} and world.state.media == {} and world.state.events == {}
    leftover = [k for k in world.storage.objects if "/suggestions/" in k or "/derived/" in k]
    assert leftover == []


async def test_removal_is_atomic_when_storage_fails(world, kit):
    await arrive(world, kit, *afternoon(kit, 3))
    await settle(world)
    world.storage.fail = True
    with pytest.raises(OSError):
        await intake.media_removed(world.deps, kit.USER, [next(iter(world.state.media))])
    assert len(world.state.media) == 3 and world.state.removed == {}


async def test_opting_out_withdraws_open_suggestions_and_stops_new_ones(world, kit):
    await arrive(world, kit, *afternoon(kit, 3))
    await settle(world)
    saved = world.suggestions(SuggestionKind.collage)[0]
    await user_actions.act(world.deps, kit.USER, saved.suggestion_id, ActionName.save)

    def consent(seq, on):
        return ConsentChanged(producer="policy", data=ConsentChangedData(
            user_key=kit.USER, camera_roll=on, training_opt_out=False, ledger_seq=seq,
            changed_at=world.clock.now))

    assert await intake.consent_changed(world.deps, consent(2, False)) == Outcome.opted_out
    statuses = {s.kind: s.status for s in world.suggestions()}
    assert statuses[SuggestionKind.highlight] is SuggestionStatus.withdrawn
    assert statuses[SuggestionKind.collage] is SuggestionStatus.saved  # the user's own
    assert world.state.media == {}
    assert await arrive(world, kit, kit.classified(minutes=30)) == [Outcome.opted_out]
    assert await intake.consent_changed(world.deps, consent(1, True)) == Outcome.stale
    with pytest.raises(ActionRefused, match="switched off"):
        await user_actions.act(world.deps, kit.USER, saved.suggestion_id, ActionName.share)


async def test_unreadable_originals_are_left_out(world, kit):
    events = afternoon(kit, 4)
    await arrive(world, kit, *events)
    world.storage.objects[events[0].data.object_key] = b"garbage"
    del world.storage.objects[events[1].data.object_key]
    await settle(world)
    for s in world.suggestions():
        assert events[0].data.media_id not in s.media_ids
        assert events[1].data.media_id not in s.media_ids
    assert world.state.media[events[0].data.media_id].unrenderable


async def test_planning_retries_later_when_storage_is_down(world, kit):
    await arrive(world, kit, *afternoon(kit, 3))
    world.storage.fail = True
    await settle(world)
    event = next(iter(world.state.events.values()))
    assert event.dirty and event.attempts == 1 and world.suggestions() == []
    world.storage.fail = False
    await settle(world, 3)
    assert world.suggestions()


# --- actions ---------------------------------------------------------------------------

async def planned_world(world, kit, n=3, dark=True):
    events = afternoon(kit, n)
    for i, e in enumerate(events):
        kit.put_original(world, e, seed=i, exposure_stops=-1.5 if dark else 0)
        await intake.media_classified(world.deps, e)
    await settle(world)
    return events


async def test_edit_action_stores_a_rendition_and_proposes_it_for_training(world, kit):
    await planned_world(world, kit)
    edit = world.suggestions(SuggestionKind.edit)[0]
    result = await user_actions.act(world.deps, kit.USER, edit.suggestion_id, ActionName.edit)
    assert result.applied and result.suggestion.status is SuggestionStatus.edited
    derived = world.state.derived[result.derived_media_id]
    assert derived.original_media_id == edit.media_ids[0]
    assert derived.object_key == f"users/{kit.USER}/derived/{result.derived_media_id}.jpg"
    original = world.state.media[edit.media_ids[0]]
    assert kit.image_size(world.storage.objects[derived.object_key]) == (original.width,
                                                                         original.height)
    actions = world.published("gemroll.user-actions")
    assert [(a.data.action, a.data.derived_media_id) for a in actions] == [
        (ActionKind.edited_with_ai, result.derived_media_id)]
    candidates = world.published("gemroll.training.candidates")
    assert len(candidates) == 1 and isinstance(candidates[0], TrainingCandidate)
    assert candidates[0].data.derived_media_id == result.derived_media_id
    assert candidates[0].data.media_id == edit.media_ids[0]

    # saving it afterwards reuses the same rendition: no second candidate
    saved = await user_actions.act(world.deps, kit.USER, edit.suggestion_id, ActionName.save)
    assert saved.suggestion.status is SuggestionStatus.saved
    assert saved.derived_media_id == result.derived_media_id
    assert len(world.published("gemroll.training.candidates")) == 1
    assert [a.data.action for a in world.published("gemroll.user-actions")] == [
        ActionKind.edited_with_ai, ActionKind.saved]


async def test_repeated_actions_publish_nothing_more(world, kit):
    await planned_world(world, kit)
    collage = world.suggestions(SuggestionKind.collage)[0]
    first = await user_actions.act(world.deps, kit.USER, collage.suggestion_id, ActionName.share)
    again = await user_actions.act(world.deps, kit.USER, collage.suggestion_id, ActionName.share)
    assert first.applied and not again.applied
    shared = world.published("gemroll.user-actions")
    assert len(shared) == len(collage.media_ids)  # one UserAction per photo
    assert {a.data.media_id for a in shared} == set(collage.media_ids)
    assert all(a.data.suggestion_id == collage.suggestion_id for a in shared)


async def test_dismiss_is_final(world, kit):
    await planned_world(world, kit)
    highlight = world.suggestions(SuggestionKind.highlight)[0]
    result = await user_actions.act(world.deps, kit.USER, highlight.suggestion_id,
                                    ActionName.dismiss)
    assert result.suggestion.status is SuggestionStatus.dismissed
    with pytest.raises(ActionRefused):
        await user_actions.act(world.deps, kit.USER, highlight.suggestion_id, ActionName.save)
    assert [a.data.action for a in world.published("gemroll.user-actions")] == [
        ActionKind.dismissed] * len(highlight.media_ids)


async def test_nsfw_edits_cannot_be_shared(world, kit):
    e = kit.classified(nsfw=0.9)
    kit.put_original(world, e, exposure_stops=-1.5)
    await intake.media_classified(world.deps, e)
    await settle(world)
    edit = world.suggestions(SuggestionKind.edit)[0]
    assert not edit.shareable
    with pytest.raises(ActionRefused, match="may not be shared"):
        await user_actions.act(world.deps, kit.USER, edit.suggestion_id, ActionName.share)
    saved = await user_actions.act(world.deps, kit.USER, edit.suggestion_id, ActionName.save)
    assert saved.suggestion.status is SuggestionStatus.saved


async def test_other_users_suggestions_are_not_found(world, kit):
    await planned_world(world, kit)
    mine = world.suggestions()[0]
    with pytest.raises(user_actions.NotFound):
        await user_actions.get_suggestion(world.deps, kit.OTHER, mine.suggestion_id)
    with pytest.raises(user_actions.NotFound):
        await user_actions.act(world.deps, kit.OTHER, mine.suggestion_id, ActionName.save)
    page, cursor = await user_actions.list_suggestions(
        world.deps, kit.OTHER, status=None, kind=None, limit=10, cursor=None)
    assert page == [] and cursor is None


async def test_listing_pages_through_everything_once(world, kit):
    for day in range(3):
        for e in afternoon(kit, 3):
            e = e.model_copy(update={"data": e.data.model_copy(update={
                "captured_at": e.data.captured_at + timedelta(days=day)})})
            kit.put_original(world, e, seed=day, exposure_stops=-1.5)
            await intake.media_classified(world.deps, e)
        await settle(world)
        world.clock.advance(5)
    everything = world.suggestions()
    seen, cursor = [], None
    while True:
        page, cursor = await user_actions.list_suggestions(
            world.deps, kit.USER, status=None, kind=None, limit=2, cursor=cursor)
        seen.extend(s.suggestion_id for s in page)
        if cursor is None:
            break
    assert sorted(map(str, seen)) == sorted(str(s.suggestion_id) for s in everything)
    assert len(seen) == len(set(seen))
    edits, _ = await user_actions.list_suggestions(
        world.deps, kit.USER, status=SuggestionStatus.proposed, kind=SuggestionKind.edit,
        limit=100, cursor=None)
    assert edits and all(s.kind is SuggestionKind.edit for s in edits)
    with pytest.raises(user_actions.InvalidCursor):
        await user_actions.list_suggestions(world.deps, kit.USER, status=None, kind=None,
                                            limit=2, cursor="bm9wZQ")


async def test_edits_follow_a_reclassification(world, kit):
    first = kit.classified(nsfw=0.01)
    kit.put_original(world, first, exposure_stops=-1.5)
    await intake.media_classified(world.deps, first)
    await settle(world)
    edit = world.suggestions(SuggestionKind.edit)[0]
    assert edit.shareable

    def again(**data):
        return first.model_copy(update={
            "event_id": uuid.uuid4(), "occurred_at": first.occurred_at + timedelta(minutes=5),
            "data": first.data.model_copy(update=data)})

    assert await intake.media_classified(world.deps, again(nsfw_score=0.9)) == Outcome.updated
    await settle(world)
    assert not world.state.suggestions[edit.suggestion_id].shareable
    with pytest.raises(ActionRefused, match="may not be shared"):
        await user_actions.act(world.deps, kit.USER, edit.suggestion_id, ActionName.share)
    await intake.media_classified(world.deps, again(is_gem=False))
    await settle(world)
    assert world.state.suggestions[edit.suggestion_id].status is SuggestionStatus.withdrawn
