"""Privacy promises of the suggester, with in-memory fakes: unsharing, the public topic
forgetting deleted photos (revisions and withdrawals), erasure never dropped on a partial S3
failure (a refused one is final), no orphaned AI renditions, and renditions without metadata."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gemroll_common.consumer import FailurePolicy
from gemroll_common.errors import StoreRefused, StoreUnavailable, is_transient
from gemroll_contracts import (
    ErasureReason,
    MediaErased,
    MediaErasedData,
    SuggestionCreated,
    SuggestionKind,
    SuggestionWithdrawn,
    UserAction,
    UserActionData,
    WithdrawalReason,
)
from gemroll_contracts.users import ActionKind
from gemroll_suggester.domain import ActionName, ActionRefused, SuggestionStatus
from gemroll_suggester.usecases import intake, renditions, user_actions
from gemroll_suggester.usecases.planning import Planner
from gemroll_testkit.photos import (
    PHONE_MAKE,
    PHONE_MAKER_NOTE,
    PHONE_SERIAL,
    phone_jpeg,
    srgb_icc,
)
from minio.deleteobjects import DeleteError
from minio.error import S3Error
from PIL import Image

# --- helpers ---------------------------------------------------------------------------------


async def settle(world, seconds: float = 61) -> None:
    world.clock.advance(seconds)
    planner = Planner(world.deps)
    while await planner.run_once() > 0:
        pass


async def planned(world, kit, n=3, dark=True):
    events = [kit.classified(minutes=20 * i, seed=i, gem_score=0.9 - i * 0.05) for i in range(n)]
    for i, e in enumerate(events):
        kit.put_original(world, e, seed=i, exposure_stops=-1.5 if dark else 0)
        await intake.media_classified(world.deps, e)
    await settle(world)
    return events


def one(world, kind):
    found = world.suggestions(kind)
    assert len(found) == 1, found
    return found[0]


def public(world):
    return world.published("gemroll.suggestions")


def latest_public(world):
    """What a subscriber of the public topic holds: the highest revision per suggestion."""
    state = {}
    for e in public(world):
        held = state.get(e.data.suggestion_id)
        if held is None or e.data.revision > held.data.revision:
            state[e.data.suggestion_id] = e
    return state


def delete_action(kit, world, media_id):
    return UserAction(producer="ingest", data=UserActionData(
        user_key=kit.USER, media_id=media_id, action=ActionKind.media_deleted,
        acted_at=world.clock.now))


# --- 1. unshare ------------------------------------------------------------------------------


async def test_unshare_publishes_unshared_for_every_photo_and_can_be_shared_again(world, kit):
    await planned(world, kit)
    collage = one(world, SuggestionKind.collage)
    await user_actions.act(world.deps, kit.USER, collage.suggestion_id, ActionName.save)
    await user_actions.act(world.deps, kit.USER, collage.suggestion_id, ActionName.share)

    world.clock.advance(5)
    result = await user_actions.act(world.deps, kit.USER, collage.suggestion_id,
                                    ActionName.unshare)
    assert result.applied and result.suggestion.status is SuggestionStatus.saved
    assert ActionName.share not in result.suggestion.actions
    unshared = [a for a in world.published("gemroll.user-actions")
                if a.data.action is ActionKind.unshared]
    assert sorted(a.data.media_id for a in unshared) == sorted(collage.media_ids)
    assert all(a.data.suggestion_id == collage.suggestion_id for a in unshared)

    # repeating it publishes nothing more
    again = await user_actions.act(world.deps, kit.USER, collage.suggestion_id,
                                   ActionName.unshare)
    assert not again.applied

    # sharing again is a new action with new event ids (the policy dedupes on them)
    world.clock.advance(5)
    reshared = await user_actions.act(world.deps, kit.USER, collage.suggestion_id,
                                      ActionName.share)
    assert reshared.applied and reshared.suggestion.status is SuggestionStatus.shared
    shares = [a for a in world.published("gemroll.user-actions")
              if a.data.action is ActionKind.shared]
    assert len(shares) == 2 * len(collage.media_ids)
    assert len({a.event_id for a in shares}) == len(shares)
    world.clock.advance(5)
    assert (await user_actions.act(world.deps, kit.USER, collage.suggestion_id,
                                   ActionName.unshare)).applied
    unshared = [a for a in world.published("gemroll.user-actions")
                if a.data.action is ActionKind.unshared]
    assert len({a.event_id for a in unshared}) == 2 * len(collage.media_ids)


async def test_unshare_needs_a_share_first(world, kit):
    await planned(world, kit)
    highlight = one(world, SuggestionKind.highlight)
    with pytest.raises(ActionRefused) as refused:
        await user_actions.act(world.deps, kit.USER, highlight.suggestion_id, ActionName.unshare)
    assert refused.value.code == "not_shared"
    await user_actions.act(world.deps, kit.USER, highlight.suggestion_id, ActionName.save)
    with pytest.raises(ActionRefused, match="never shared"):
        await user_actions.act(world.deps, kit.USER, highlight.suggestion_id, ActionName.unshare)
    assert not [a for a in world.published("gemroll.user-actions")
                if a.data.action is ActionKind.unshared]


async def test_unshare_works_after_opting_out(world, kit):
    from gemroll_contracts import ConsentChanged, ConsentChangedData

    await planned(world, kit)
    highlight = one(world, SuggestionKind.highlight)
    await user_actions.act(world.deps, kit.USER, highlight.suggestion_id, ActionName.share)
    await intake.consent_changed(world.deps, ConsentChanged(
        producer="policy", data=ConsentChangedData(
            user_key=kit.USER, camera_roll=False, training_opt_out=False, ledger_seq=2,
            changed_at=world.clock.now)))
    result = await user_actions.act(world.deps, kit.USER, highlight.suggestion_id,
                                    ActionName.unshare)
    assert result.applied and result.suggestion.status is SuggestionStatus.proposed


# --- 2. the public topic forgets deleted photos ----------------------------------------------


async def test_deleting_a_photo_republishes_every_suggestion_showing_it(world, kit):
    events = await planned(world, kit, n=3)
    victim = events[0].data.media_id
    showing = [s for s in world.suggestions() if victim in s.media_ids]
    kinds = {s.kind for s in showing}
    assert {SuggestionKind.highlight, SuggestionKind.collage, SuggestionKind.edit} <= kinds
    before = len(public(world))

    await intake.user_action(world.deps, delete_action(kit, world, victim))

    # at once, in the removal's transaction: a revision or a withdrawal of each
    fresh = public(world)[before:]
    assert {e.data.suggestion_id for e in fresh} == {s.suggestion_id for s in showing}
    for e in fresh:
        assert str(victim) not in e.to_json().decode()
    old_revision = {s.suggestion_id: s.revision for s in showing}
    for e in fresh:
        assert e.data.revision == old_revision[e.data.suggestion_id] + 1
    edit = next(s for s in showing if s.kind is SuggestionKind.edit)
    withdrawal = next(e for e in fresh if e.data.suggestion_id == edit.suggestion_id)
    assert isinstance(withdrawal, SuggestionWithdrawn)
    assert withdrawal.data.reason is WithdrawalReason.media_removed

    # after the re-plan, no subscriber's current state mentions the photo
    await settle(world, 1)
    for e in latest_public(world).values():
        if isinstance(e, SuggestionCreated):
            assert victim not in e.data.media_ids


async def test_a_collage_left_with_one_photo_is_withdrawn_publicly(world, kit):
    events = await planned(world, kit, n=2, dark=False)
    collage = one(world, SuggestionKind.collage)
    assert len(collage.media_ids) == 2
    await intake.media_erased(world.deps, MediaErased(producer="policy", data=MediaErasedData(
        user_key=kit.USER, media_ids=[events[0].data.media_id],
        reason=ErasureReason.media_deleted, erased_at=world.clock.now)))
    await settle(world, 1)
    current = latest_public(world)[collage.suggestion_id]
    assert isinstance(current, SuggestionWithdrawn)
    assert current.data.revision == collage.revision + 1
    assert world.state.suggestions[collage.suggestion_id].status is SuggestionStatus.withdrawn
    assert world.state.suggestions[collage.suggestion_id].revision == current.data.revision


async def test_planner_withdrawals_are_published(world, kit):
    """A highlight that falls below its minimum after a deletion is withdrawn by the planner;
    subscribers learn it."""
    events = await planned(world, kit, n=3, dark=False)  # highlight_min is 3
    highlight = one(world, SuggestionKind.highlight)
    await intake.user_action(world.deps, delete_action(kit, world, events[1].data.media_id))
    await settle(world, 1)
    current = latest_public(world)[highlight.suggestion_id]
    assert isinstance(current, SuggestionWithdrawn)
    record = world.state.suggestions[highlight.suggestion_id]
    assert record.status is SuggestionStatus.withdrawn and record.revision == current.data.revision


async def test_opting_out_publishes_withdrawals(world, kit):
    from gemroll_contracts import ConsentChanged, ConsentChangedData

    await planned(world, kit)
    open_ = {s.suggestion_id for s in world.suggestions()
             if s.status is SuggestionStatus.proposed}
    await intake.consent_changed(world.deps, ConsentChanged(
        producer="policy", data=ConsentChangedData(
            user_key=kit.USER, camera_roll=False, training_opt_out=False, ledger_seq=2,
            changed_at=world.clock.now)))
    current = latest_public(world)
    assert {i for i in open_ if isinstance(current[i], SuggestionWithdrawn)} == open_


# --- 3. a partial S3 multi-delete failure is transient ---------------------------------------


class _Client:
    """The part of a minio client a deletion uses; `fail_keys` fail with `code`."""

    def __init__(self, fail_keys: set[str], code: str = "InternalError") -> None:
        self.fail_keys = fail_keys
        self.code = code
        self.objects = {"users/u/derived/a.jpg", "users/u/derived/b.jpg",
                        "users/u/suggestions/s/r1.jpg"}

    def remove_objects(self, bucket, delete_objects):
        errors = []
        for d in delete_objects:
            if d.name in self.fail_keys:
                errors.append(DeleteError(self.code, "try again", d.name, None))
            else:
                self.objects.discard(d.name)
        return iter(errors)

    def list_objects(self, bucket, prefix, recursive):
        return [SimpleNamespace(object_name=k) for k in sorted(self.objects)
                if k.startswith(prefix)]


@pytest.fixture
def s3(monkeypatch):
    """The suggester's storage adapter on the common ObjectStore over a stub client."""
    from gemroll_common import storage
    from gemroll_common.settings import S3Settings
    from gemroll_suggester.adapters.storage import S3Storage

    def on(client):
        monkeypatch.setattr(storage, "make_minio", lambda settings: client)
        return S3Storage(storage.ObjectStore(S3Settings()))

    return on


async def test_partial_multi_delete_failure_is_transient_until_all_are_gone(s3):
    client = _Client({"users/u/derived/b.jpg"})
    storage = s3(client)
    with pytest.raises(StoreUnavailable, match="failed to delete 1 objects") as failed:
        await storage.delete(["users/u/derived/a.jpg", "users/u/derived/b.jpg"])
    # the consumer runner retries it, in order, for as long as it takes (never dead-letters)
    assert is_transient(failed.value)
    assert not FailurePolicy().gives_up(failed.value, attempt=1000)
    client.fail_keys.clear()  # S3 recovered: the retry deletes the rest
    await storage.delete(["users/u/derived/a.jpg", "users/u/derived/b.jpg"])
    assert client.objects == {"users/u/suggestions/s/r1.jpg"}


async def test_partial_prefix_delete_failure_is_transient(s3):
    client = _Client({"users/u/suggestions/s/r1.jpg"})
    with pytest.raises(StoreUnavailable):
        await s3(client).delete_prefix("users/u/suggestions/s/")
    client.fail_keys.clear()
    await s3(client).delete_prefix("users/u/suggestions/s/")
    assert "users/u/suggestions/s/r1.jpg" not in client.objects


async def test_missing_keys_are_not_a_failure(s3):
    client = _Client({"users/u/derived/x.jpg"}, code="NoSuchKey")
    await s3(client).delete(["users/u/derived/x.jpg"])


async def test_a_refused_deletion_is_final(s3):
    """The store refusing the whole request (access denied) is not waited out: the runner
    gives up after its attempts and dead-letters the removal, with the reason."""

    class Refusing(_Client):
        def remove_objects(self, bucket, delete_objects):
            raise _s3_error("AccessDenied", 403)

    with pytest.raises(StoreRefused) as refused:
        await s3(Refusing(set())).delete(["users/u/derived/a.jpg"])
    assert not is_transient(refused.value)
    assert FailurePolicy().gives_up(refused.value, attempt=FailurePolicy().max_attempts)


def _s3_error(code: str, status: int) -> S3Error:
    import urllib3

    return S3Error(urllib3.HTTPResponse(status=status), code, code, "key", "request", "host")


# --- 4. no orphaned renditions, and renditions without metadata -----------------------------


async def _crashing_commit(*args, **kwargs):
    raise ConnectionResetError("database gone between the S3 write and the commit")


async def test_a_rendition_whose_action_never_committed_is_erased_with_its_photo(
        world, kit, monkeypatch):
    await planned(world, kit)
    edit = world.suggestions(SuggestionKind.edit)[0]
    monkeypatch.setattr(user_actions, "_commit_action", _crashing_commit)
    with pytest.raises(ConnectionResetError):
        await user_actions.act(world.deps, kit.USER, edit.suggestion_id, ActionName.edit)
    orphans = [k for k in world.storage.objects if "/derived/" in k]
    assert len(orphans) == 1 and world.state.derived == {}
    await intake.user_action(world.deps, delete_action(kit, world, edit.media_ids[0]))
    assert [k for k in world.storage.objects if "/derived/" in k] == []
    assert world.state.rendition_objects == {}


async def test_the_sweep_deletes_orphans_and_keeps_committed_renditions(
        world, kit, monkeypatch):
    await planned(world, kit)
    first, second = world.suggestions(SuggestionKind.edit)[:2]
    kept = await user_actions.act(world.deps, kit.USER, first.suggestion_id, ActionName.edit)
    kept_key = world.state.derived[kept.derived_media_id].object_key
    monkeypatch.setattr(user_actions, "_commit_action", _crashing_commit)
    with pytest.raises(ConnectionResetError):
        await user_actions.act(world.deps, kit.USER, second.suggestion_id, ActionName.edit)
    orphan = next(k for k in world.storage.objects if "/derived/" in k and k != kept_key)

    from datetime import UTC, datetime

    recent = datetime.now(UTC) - timedelta(hours=1)
    assert await renditions.sweep_orphan_renditions(world.deps, recent) == 0  # grace period
    assert orphan in world.storage.objects
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert await renditions.sweep_orphan_renditions(world.deps, later) == 1
    assert orphan not in world.storage.objects and kept_key in world.storage.objects
    assert set(world.state.rendition_objects) == {kept_key}


def _original_with_metadata(base: bytes | None = None) -> tuple[bytes, bytes]:
    """A JPEG with what a phone writes (EXIF GPS, serial, maker note, XMP, a comment, an sRGB
    profile), and that profile."""
    data = phone_jpeg(base, orientation=1)
    check = Image.open(io.BytesIO(data))
    assert check.getexif().get_ifd(0x8825) and check.info.get("comment")  # the test is real
    assert check.info["icc_profile"][36:40] == srgb_icc()[36:40] == b"acsp"  # an ICC profile
    return data, check.info["icc_profile"]  # its own: a new one has a new creation time


def _assert_clean(data: bytes, icc: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    assert len(exif) == 0, dict(exif)
    assert not exif.get_ifd(0x8825) and not exif.get_ifd(0x8769)  # no GPS, no Exif IFD
    assert "exif" not in image.info and "xmp" not in image.info
    assert not image.info.get("comment")
    assert not any(marker == 0xE1 for marker, *_ in getattr(image, "applist", []))
    for needle in (PHONE_SERIAL.encode(), PHONE_MAKER_NOTE, PHONE_MAKE.encode(), b"GPSLatitude"):
        assert needle not in data
    assert image.info.get("icc_profile") == icc  # colours stay right


async def test_renditions_and_previews_carry_no_exif_gps_or_xmp_but_keep_icc(world, kit):
    event = kit.classified(seed=1)
    dark = kit.jpeg_bytes(1, event.data.width, event.data.height, exposure_stops=-1.5)
    data, icc = _original_with_metadata(base=dark)
    world.storage.objects[event.data.object_key] = data
    await intake.media_classified(world.deps, event)
    await settle(world)
    edits = world.suggestions(SuggestionKind.edit)
    assert edits, "a dark photo gets an edit suggestion"
    result = await user_actions.act(world.deps, kit.USER, edits[0].suggestion_id,
                                    ActionName.edit)
    rendition = world.storage.objects[world.state.derived[result.derived_media_id].object_key]
    _assert_clean(rendition, icc)
    preview = world.storage.objects[world.suggestions(SuggestionKind.edit)[0].preview_object_key]
    image = Image.open(io.BytesIO(preview))
    assert len(image.getexif()) == 0 and "xmp" not in image.info


def test_encode_jpeg_strips_metadata_of_the_source_image():
    from gemroll_suggester import rendering

    data, icc = _original_with_metadata()
    image = Image.open(io.BytesIO(data))
    image.load()
    _assert_clean(rendering.encode_jpeg(image, 88, icc_profile=rendering.rgb_icc_profile(data)),
                  icc)
