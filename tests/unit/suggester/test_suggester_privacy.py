"""Privacy promises of the suggester, with in-memory fakes: unsharing, the public topic
forgetting deleted photos (revisions and withdrawals), erasure never dropped on a partial S3
failure, no orphaned AI renditions, and renditions without metadata."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gemroll_common.kafka import TransientError
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
from gemroll_suggester import handlers, user_actions
from gemroll_suggester.consumers import retry_while_down
from gemroll_suggester.domain import ActionName, ActionRefused, SuggestionStatus
from gemroll_suggester.planner import Planner
from minio.deleteobjects import DeleteError
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
        await handlers.media_classified(world.deps, e)
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
    await handlers.consent_changed(world.deps, ConsentChanged(
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

    await handlers.user_action(world.deps, delete_action(kit, world, victim))

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
    await handlers.media_erased(world.deps, MediaErased(producer="policy", data=MediaErasedData(
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
    await handlers.user_action(world.deps, delete_action(kit, world, events[1].data.media_id))
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
    await handlers.consent_changed(world.deps, ConsentChanged(
        producer="policy", data=ConsentChangedData(
            user_key=kit.USER, camera_roll=False, training_opt_out=False, ledger_seq=2,
            changed_at=world.clock.now)))
    current = latest_public(world)
    assert {i for i in open_ if isinstance(current[i], SuggestionWithdrawn)} == open_


# --- 3. a partial S3 multi-delete failure is transient ---------------------------------------


class _Client:
    def __init__(self, fail_keys: set[str]) -> None:
        self.fail_keys = fail_keys
        self.objects = {"users/u/derived/a.jpg", "users/u/derived/b.jpg",
                        "users/u/suggestions/s/r1.jpg"}

    def remove_objects(self, bucket, delete_objects):
        errors = []
        for d in delete_objects:
            if d.name in self.fail_keys:
                errors.append(DeleteError("InternalError", "try again", d.name, None))
            else:
                self.objects.discard(d.name)
        return iter(errors)

    def list_objects(self, bucket, prefix, recursive):
        return [SimpleNamespace(object_name=k) for k in sorted(self.objects)
                if k.startswith(prefix)]


def _storage(client):
    from gemroll_suggester.adapters.storage import S3Storage

    return S3Storage(SimpleNamespace(client=client, bucket="gemroll-media"))


async def test_partial_multi_delete_failure_is_transient_until_all_are_gone():
    client = _Client({"users/u/derived/b.jpg"})
    storage = _storage(client)
    with pytest.raises(TransientError, match="failed to delete 1 objects"):
        await storage.delete(["users/u/derived/a.jpg", "users/u/derived/b.jpg"])
    # the consumer's wrapper keeps it transient (retried in order, never dead-lettered)
    with pytest.raises(TransientError):
        await retry_while_down(storage.delete(["users/u/derived/b.jpg"]), s3_too=True)
    client.fail_keys.clear()  # S3 recovered: the retry deletes the rest
    await storage.delete(["users/u/derived/a.jpg", "users/u/derived/b.jpg"])
    assert client.objects == {"users/u/suggestions/s/r1.jpg"}


async def test_partial_prefix_delete_failure_is_transient():
    client = _Client({"users/u/suggestions/s/r1.jpg"})
    with pytest.raises(TransientError):
        await _storage(client).delete_prefix("users/u/suggestions/s/")
    client.fail_keys.clear()
    await _storage(client).delete_prefix("users/u/suggestions/s/")
    assert "users/u/suggestions/s/r1.jpg" not in client.objects


async def test_missing_keys_are_not_a_failure():
    class Missing(_Client):
        def remove_objects(self, bucket, delete_objects):
            return iter([DeleteError("NoSuchKey", "gone", d.name, None)
                         for d in delete_objects])

    await _storage(Missing(set())).delete(["users/u/derived/x.jpg"])


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
    await handlers.user_action(world.deps, delete_action(kit, world, edit.media_ids[0]))
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
    assert await user_actions.sweep_orphan_renditions(world.deps, recent) == 0  # grace period
    assert orphan in world.storage.objects
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert await user_actions.sweep_orphan_renditions(world.deps, later) == 1
    assert orphan not in world.storage.objects and kept_key in world.storage.objects
    assert set(world.state.rendition_objects) == {kept_key}


def _original_with_metadata(width=320, height=240, base: bytes | None = None
                            ) -> tuple[bytes, bytes]:
    """A JPEG carrying EXIF GPS, a body serial number, a maker note, XMP, a comment and an
    sRGB ICC profile, as a phone would write it."""
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    if base is not None:
        image = Image.open(io.BytesIO(base)).convert("RGB")
    else:
        image = Image.new("RGB", (width, height), (40, 60, 90))
        for x in range(0, width, 16):
            image.paste((200, 120, 60), (x, 0, x + 8, height))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    exif.get_ifd(0x8769)[0xA431] = "SERIAL-123456"  # BodySerialNumber
    exif.get_ifd(0x8769)[0x927C] = b"maker-note-secret"  # MakerNote
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (38.0, 42.0, 36.0)
    gps[3], gps[4] = "E", (9.0, 8.0, 24.0)
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
           b'02/22-rdf-syntax-ns#"><rdf:Description exif:GPSLatitude="38,42.6N" xmlns:exif='
           b'"http://ns.adobe.com/exif/1.0/"/></rdf:RDF></x:xmpmeta>')
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif, icc_profile=icc, xmp=xmp,
               comment=b"serial SERIAL-123456")
    data = out.getvalue()
    check = Image.open(io.BytesIO(data))
    assert check.getexif().get_ifd(0x8825) and check.info.get("comment")  # the test is real
    return data, icc


def _assert_clean(data: bytes, icc: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    assert len(exif) == 0, dict(exif)
    assert not exif.get_ifd(0x8825) and not exif.get_ifd(0x8769)  # no GPS, no Exif IFD
    assert "exif" not in image.info and "xmp" not in image.info
    assert not image.info.get("comment")
    assert not any(marker == 0xE1 for marker, *_ in getattr(image, "applist", []))
    for needle in (b"SERIAL-123456", b"maker-note-secret", b"PhoneMaker", b"GPSLatitude"):
        assert needle not in data
    assert image.info.get("icc_profile") == icc  # colours stay right


async def test_renditions_and_previews_carry_no_exif_gps_or_xmp_but_keep_icc(world, kit):
    event = kit.classified(seed=1)
    dark = kit.jpeg_bytes(1, event.data.width, event.data.height, exposure_stops=-1.5)
    data, icc = _original_with_metadata(base=dark)
    world.storage.objects[event.data.object_key] = data
    await handlers.media_classified(world.deps, event)
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
