"""Where an event may come from: forged or buggy candidates and actions are refused.

A candidate names an object; the gate copies that object into training under the candidate's
user. So the object must be that user's own media (or rendition of it), and the candidate and
each action kind must come from the service allowed to produce it (the topic registry).
"""

from __future__ import annotations

import re

from gemroll_contracts import (
    ACTION_WRITERS,
    CANDIDATE_WRITERS,
    MEDIA_UPLOADED,
    CandidateSource,
    MediaUploaded,
    TrainingCandidate,
    UserAction,
)

_EXTENSION = re.compile(r"(\.[A-Za-z0-9]{1,8})?")


class ForgedEvent(ValueError):
    """An event its producer may not send, or naming an object its user does not own."""


def check_origin(event: TrainingCandidate | UserAction | MediaUploaded,
                 media_bucket: str) -> None:
    """Raise ForgedEvent, with the reason, unless the event may be trusted."""
    if isinstance(event, MediaUploaded):  # it starts the retention clock
        if event.producer not in MEDIA_UPLOADED.writers:
            raise ForgedEvent(f"upload announced by {event.producer!r}")
        return
    if isinstance(event, UserAction):
        allowed = ACTION_WRITERS[event.data.action]
        if event.producer not in allowed:
            raise ForgedEvent(f"action {event.data.action.value} from {event.producer!r}: "
                              f"only {sorted(allowed)} may send it")
        return
    d = event.data
    writer = CANDIDATE_WRITERS[d.source]
    if event.producer != writer:
        raise ForgedEvent(f"{d.source.value} candidate from {event.producer!r}: only "
                          f"{writer.value!r} may send it")
    if d.bucket != media_bucket:
        raise ForgedEvent(f"candidate names bucket {d.bucket!r}, not the media bucket")
    if d.source is CandidateSource.classifier:
        expected = f"users/{d.user_key}/media/{d.media_id}"
        if d.object_key != expected:
            raise ForgedEvent("the object is not the candidate's own original")
        return
    if d.derived_media_id is None:
        raise ForgedEvent("a rendition candidate without derived_media_id")
    stem = f"users/{d.user_key}/derived/{d.derived_media_id}"
    if not (d.object_key.startswith(stem) and _EXTENSION.fullmatch(d.object_key[len(stem):])):
        raise ForgedEvent("the object is not the candidate's own rendition")


__all__ = ["ForgedEvent", "check_origin"]
