"""Pure rules for suggestions already made: events merging and splitting, photos removed,
opting out; whether a classified photo is taken in; what an action records."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from gemroll_contracts import EditRecipe, SuggestionKind, WithdrawalReason
from gemroll_suggester.domain import (
    ActionName,
    Consent,
    MediaItem,
    Outcome,
    SuggestionRecord,
    SuggestionStatus,
    acted,
    decide,
    follows_split,
    is_new_fact,
    merged,
    opted_out,
    refusal,
    without_media,
)

T0 = datetime(2026, 3, 14, 13, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=1)
USER = "d" * 32
EVENT = uuid.UUID(int=900)
SURVIVOR = uuid.UUID(int=901)
PHOTOS = tuple(uuid.UUID(int=n) for n in range(1, 5))
RECIPE = EditRecipe(exposure=0.5, contrast=1.1, saturation=1.0, white_balance=(1.0, 1.0, 1.0),
                    rotate_degrees=0.0)


def suggestion(kind: SuggestionKind = SuggestionKind.highlight, *, media: int = 3,
               status: SuggestionStatus = SuggestionStatus.proposed, revision: int = 2,
               actions: frozenset[ActionName] = frozenset()) -> SuggestionRecord:
    ids = PHOTOS[:1] if kind is SuggestionKind.edit else PHOTOS[:media]
    return SuggestionRecord(
        suggestion_id=uuid.uuid4(), user_key=USER, event_id=EVENT, kind=kind, revision=revision,
        media_ids=ids, title="A day out", status=status,
        recipe=RECIPE if kind is SuggestionKind.edit else None,
        preview_object_key="users/d/suggestions/s/r2.jpg", event_start=T0, event_end=T0,
        shareable=True, fingerprint="f", created_at=T0, updated_at=T0, actions=actions)


# --- events merging and splitting ------------------------------------------------------------

@pytest.mark.parametrize("kind", [SuggestionKind.highlight, SuggestionKind.collage])
def test_an_open_highlight_or_collage_of_an_absorbed_event_is_superseded(kind):
    old = suggestion(kind)
    change = merged(old, SURVIVOR, NOW)
    assert change.record.event_id == SURVIVOR
    assert change.record.status is SuggestionStatus.withdrawn
    assert change.record.revision == old.revision + 1 and change.record.updated_at == NOW
    assert change.record.preview_object_key is None
    assert change.withdraw is WithdrawalReason.superseded and not change.publish
    assert change.drop_preview == old.preview_object_key and not change.delete


@pytest.mark.parametrize("old", [
    suggestion(SuggestionKind.edit),
    suggestion(SuggestionKind.collage, status=SuggestionStatus.saved),
    suggestion(SuggestionKind.highlight, status=SuggestionStatus.withdrawn),
], ids=["open edit", "saved collage", "withdrawn highlight"])
def test_edits_and_what_is_not_open_just_move_to_the_surviving_event(old):
    change = merged(old, SURVIVOR, NOW)
    assert change.record.event_id == SURVIVOR
    assert (change.record.revision, change.record.status) == (old.revision, old.status)
    assert change.withdraw is None and not change.publish and change.drop_preview is None


def test_only_an_edit_follows_its_photo_to_the_split_off_event():
    edit = suggestion(SuggestionKind.edit)
    assert follows_split(edit, {PHOTOS[0], PHOTOS[3]})
    assert not follows_split(edit, {PHOTOS[1]})
    assert not follows_split(suggestion(SuggestionKind.highlight), set(PHOTOS))


# --- photos removed ------------------------------------------------------------------------

def test_a_suggestion_keeping_enough_photos_is_published_again_without_the_removed_one():
    old = suggestion(SuggestionKind.highlight, media=3)
    change = without_media(old, {PHOTOS[1]}, NOW)
    assert change.publish and change.withdraw is None and not change.delete
    assert change.record.media_ids == (PHOTOS[0], PHOTOS[2])
    assert change.record.revision == old.revision + 1 and change.record.stale
    assert change.record.preview_object_key is None and change.record.updated_at == NOW
    assert change.record.status is SuggestionStatus.proposed


def test_a_collage_left_with_one_photo_is_withdrawn_and_keeps_its_row():
    change = without_media(suggestion(SuggestionKind.collage, media=2), {PHOTOS[0]}, NOW)
    assert change.withdraw is WithdrawalReason.media_removed and not change.publish
    assert change.record.status is SuggestionStatus.withdrawn
    assert change.record.media_ids == (PHOTOS[1],) and not change.delete


def test_an_edit_of_a_removed_photo_is_withdrawn_and_deleted():
    old = suggestion(SuggestionKind.edit, status=SuggestionStatus.saved)
    change = without_media(old, {PHOTOS[0]}, NOW)
    assert change.withdraw is WithdrawalReason.media_removed and change.delete
    assert change.record.revision == old.revision + 1
    assert change.record.media_ids == old.media_ids  # the withdrawal names what it was


def test_a_dismissed_suggestion_stays_dismissed_but_the_topic_forgets_the_photo():
    old = suggestion(SuggestionKind.highlight, status=SuggestionStatus.dismissed)
    change = without_media(old, {PHOTOS[2]}, NOW)
    assert change.record.status is SuggestionStatus.dismissed
    assert change.withdraw is WithdrawalReason.media_removed and not change.delete
    assert change.record.revision == old.revision + 1


def test_a_suggestion_left_without_photos_is_withdrawn_and_deleted():
    change = without_media(suggestion(SuggestionKind.highlight, media=2),
                           {PHOTOS[0], PHOTOS[1]}, NOW)
    assert change.withdraw is WithdrawalReason.media_removed and change.delete


def test_what_was_withdrawn_already_is_not_published_again():
    collage = suggestion(SuggestionKind.collage, status=SuggestionStatus.withdrawn)
    kept = without_media(collage, {PHOTOS[0]}, NOW)
    assert not kept.publish and kept.withdraw is None and not kept.delete
    assert kept.record.media_ids == PHOTOS[1:3] and kept.record.revision == collage.revision
    assert not kept.record.stale and kept.record.preview_object_key is None
    edit = suggestion(SuggestionKind.edit, status=SuggestionStatus.withdrawn)
    gone = without_media(edit, {PHOTOS[0]}, NOW)
    assert gone.delete and not gone.publish and gone.withdraw is None


def test_opting_out_withdraws_an_open_suggestion():
    old = suggestion(SuggestionKind.collage)
    change = opted_out(old, NOW)
    assert change.withdraw is WithdrawalReason.opted_out and not change.delete
    assert change.record.status is SuggestionStatus.withdrawn
    assert change.record.revision == old.revision + 1


# --- intake ----------------------------------------------------------------------------------

def photo(*, user: str = USER, event: uuid.UUID | None = None, at: datetime = T0,
          category: str = "photo") -> MediaItem:
    return MediaItem(
        media_id=PHOTOS[0], user_key=user, bucket="b", object_key="k", width=3, height=2,
        taken_at=T0, coarse_location=None, category=category, quality_score=0.5,
        duplicate_group=None, is_best_in_group=True, nsfw_score=0.0, face_count=0,
        embedding=None, gem_score=0.9, is_gem=True,
        classified_event_id=event or uuid.UUID(int=77), classified_at=at)


def test_why_a_classified_photo_is_not_taken_in():
    new = photo(at=NOW)
    out = Consent(USER, camera_roll=False, ledger_seq=3, changed_at=T0)
    assert refusal(new, consent=out, removed=False, existing=None) is Outcome.opted_out
    assert refusal(new, consent=None, removed=True, existing=None) is Outcome.removed
    assert refusal(new, consent=None, removed=False,
                   existing=photo(user="e" * 32)) is Outcome.ignored
    assert refusal(photo(), consent=None, removed=False, existing=photo()) is Outcome.duplicate
    later = photo(event=uuid.uuid4(), at=NOW + timedelta(hours=1))
    assert refusal(new, consent=None, removed=False, existing=later) is Outcome.stale
    assert refusal(photo(category="screenshot"), consent=None, removed=False,
                   existing=None) is Outcome.not_a_photo


def test_a_new_photo_or_a_newer_classification_is_taken_in():
    back_in = Consent(USER, camera_roll=True, ledger_seq=4, changed_at=T0)
    assert refusal(photo(at=NOW), consent=back_in, removed=False, existing=None) is None
    older = photo(event=uuid.uuid4(), at=T0)
    assert refusal(photo(at=NOW), consent=None, removed=False, existing=older) is None
    # a photo already taken in stays in when reclassified as something else
    assert refusal(photo(category="screenshot", at=NOW), consent=None, removed=False,
                   existing=older) is None


# --- what an action records ------------------------------------------------------------------

def test_share_and_unshare_undo_each_other_and_each_cycle_is_a_new_fact():
    saved = suggestion(SuggestionKind.collage, status=SuggestionStatus.saved,
                       actions=frozenset({ActionName.save}))
    assert not is_new_fact(saved, ActionName.share)  # the first share: a stable event id
    shared = acted(saved, ActionName.share, decide(saved, ActionName.share), NOW)
    assert shared.status is SuggestionStatus.shared and shared.updated_at == NOW
    assert shared.actions == {ActionName.save, ActionName.share}
    assert is_new_fact(shared, ActionName.unshare)
    unshared = acted(shared, ActionName.unshare, decide(shared, ActionName.unshare), NOW)
    assert unshared.status is SuggestionStatus.saved
    assert unshared.actions == {ActionName.save, ActionName.unshare}
    assert is_new_fact(unshared, ActionName.share)  # sharing again is a new fact
    assert not is_new_fact(unshared, ActionName.save)
