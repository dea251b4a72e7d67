"""Object keys the gate names: a user's media prefixes, and the pseudonymous training keys."""

from __future__ import annotations

from uuid import UUID

from .model import Candidate, Media


def user_prefix(user_key: str) -> str:
    return f"users/{user_key}/"


def training_prefix(subject: str) -> str:
    """Where a user's training copies live: named by the pseudonym, never the user key."""
    return f"training/{subject}/"


def training_key(subject: str, candidate_id: UUID) -> str:
    """The training copy of an admitted candidate (the same key on every replay)."""
    return f"{training_prefix(subject)}{candidate_id}"


def erasure_prefixes(media: Media, candidates: list[Candidate]) -> list[str]:
    """Object-key prefixes of the original, its previews, AI renditions and suggestions that
    show it (key conventions: ingest `users/<u>/media/<id>`, suggester
    `users/<u>/derived/<id>.jpg` and `users/<u>/suggestions/<id>/`). Only keys under the
    owner's own prefix are ever deleted."""
    base = user_prefix(media.user_key)
    prefixes = [f"{base}media/{media.media_id}"]
    derived = {a.derived_media_id for a in media.actions if a.derived_media_id}
    derived |= {c.derived_media_id for c in candidates if c.derived_media_id}
    prefixes += [f"{base}derived/{d}" for d in sorted(derived, key=str)]
    suggestions = {a.suggestion_id for a in media.actions if a.suggestion_id}
    prefixes += [f"{base}suggestions/{s}/" for s in sorted(suggestions, key=str)]
    prefixes += [c.object_key for c in candidates if c.object_key.startswith(base)]
    return prefixes


__all__ = ["erasure_prefixes", "training_key", "training_prefix", "user_prefix"]
