"""Whether a classified photo or video is taken in: what the suggester keeps of it, and why
it may not."""

from __future__ import annotations

from enum import StrEnum

from gemroll_contracts import MEDIA_KINDS, Category, MediaClassified

from .model import Consent, MediaItem


class Outcome(StrEnum):
    """What became of a consumed event (the `outcome` label of the media metric)."""

    stored = "stored"
    updated = "updated"
    unchanged = "unchanged"
    duplicate = "duplicate"
    stale = "stale"
    opted_out = "opted_out"
    removed = "removed"
    not_a_photo = "not_a_photo"
    ignored = "ignored"


def quality_score(event: MediaClassified) -> float | None:
    q = event.data.quality
    if q is None:
        return None
    return round(0.45 * q.sharpness + 0.35 * q.exposure + 0.2 * (1 - q.noise), 4)


def media_item(event: MediaClassified) -> MediaItem:
    d = event.data
    video = d.video if d.media_kind == "video" else None
    moment = video.best_moment if video is not None else None
    return MediaItem(
        media_id=d.media_id, user_key=d.user_key, bucket=d.bucket, object_key=d.object_key,
        width=d.width, height=d.height, taken_at=d.captured_at or event.occurred_at,
        coarse_location=d.coarse_location, category=d.category.value,
        quality_score=quality_score(event), duplicate_group=d.duplicate_group,
        is_best_in_group=d.is_best_in_group, nsfw_score=d.nsfw_score, face_count=d.face_count,
        embedding=tuple(d.embedding) if d.embedding is not None else None,
        gem_score=d.gem_score, is_gem=d.is_gem, classified_event_id=event.event_id,
        classified_at=event.occurred_at, media_kind=d.media_kind,
        poster_key=video.poster_key if video is not None else None,
        best_moment=(moment.start_s, moment.end_s) if moment is not None else None,
        faces=tuple((f.left, f.top, f.right, f.bottom) for f in d.faces)
        if d.faces is not None else None,
    )


def refusal(item: MediaItem, *, consent: Consent | None, removed: bool,
            existing: MediaItem | None) -> Outcome | None:
    """Why the classified `item` is not taken in, or None to take it: the user opted out, the
    photo was deleted, it belongs to someone else (`ignored`), it is a redelivery or older
    than what is stored, or it is new and not a photo (a video of a camera is one; a kind a
    later version adds is not)."""
    if consent is not None and not consent.camera_roll:
        return Outcome.opted_out
    if removed:
        return Outcome.removed
    if existing is not None:
        if existing.user_key != item.user_key:
            return Outcome.ignored
        if existing.classified_event_id == item.classified_event_id:
            return Outcome.duplicate
        if existing.classified_at > item.classified_at:
            return Outcome.stale
    elif item.category != Category.photo.value or item.media_kind not in MEDIA_KINDS:
        return Outcome.not_a_photo
    return None
