"""The slice of gate state one unit of work loads, changes and saves, with change tracking."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from uuid import UUID

from .model import Action, Candidate, Consent, Media, MediaKey, Tombstone


class Workspace:
    """Consent, media (with actions), candidates and tombstones loaded for one batch.

    The gate mutates it through these methods only, so the store knows what to write.
    A media item that is loaded is loaded with all its actions and all its candidates.
    """

    def __init__(
        self,
        consents: dict[str, Consent] | None = None,
        media: Iterable[Media] = (),
        candidates: Iterable[Candidate] = (),
        tombstones: Iterable[Tombstone] = (),
    ) -> None:
        self.consents: dict[str, Consent] = dict(consents or {})
        self.media: dict[MediaKey, Media] = {m.key: m for m in media}
        self.candidates: dict[UUID, Candidate] = {}
        self.tombstones: dict[MediaKey, Tombstone] = {(t.user_key, t.media_id): t
                                                      for t in tombstones}
        self._by_media: dict[MediaKey, dict[UUID, Candidate]] = defaultdict(dict)
        self._by_user: dict[str, dict[UUID, Candidate]] = defaultdict(dict)
        for candidate in candidates:
            self._index(candidate)

        self.changed_consents: set[str] = set()
        self.changed_media: set[MediaKey] = set()
        self.new_media: set[MediaKey] = set()
        """Not in the store before this unit of work (a subset of `changed_media`)."""
        self.new_actions: list[tuple[MediaKey, Action]] = []
        self.changed_candidates: set[UUID] = set()
        self.new_candidates: set[UUID] = set()
        """Not in the store before this unit of work (a subset of `changed_candidates`)."""
        self.erased: set[MediaKey] = set()
        self.changed_tombstones: set[MediaKey] = set()

    def _index(self, candidate: Candidate) -> None:
        self.candidates[candidate.candidate_id] = candidate
        self._by_media[candidate.media_key][candidate.candidate_id] = candidate
        self._by_user[candidate.user_key][candidate.candidate_id] = candidate

    # -- reads --------------------------------------------------------------------------
    def candidates_of(self, key: MediaKey) -> list[Candidate]:
        return list(self._by_media.get(key, {}).values())

    def candidates_of_user(self, user_key: str) -> list[Candidate]:
        return list(self._by_user.get(user_key, {}).values())

    def media_of_user(self, user_key: str) -> list[Media]:
        return [m for m in self.media.values() if m.user_key == user_key]

    # -- writes -------------------------------------------------------------------------
    def set_consent(self, user_key: str, consent: Consent) -> None:
        self.consents[user_key] = consent
        self.changed_consents.add(user_key)

    def add_media(self, media: Media) -> None:
        self.media[media.key] = media
        self.changed_media.add(media.key)
        self.new_media.add(media.key)

    def media_changed(self, key: MediaKey) -> None:
        self.changed_media.add(key)

    def add_action(self, media: Media, action: Action) -> None:
        media.add_action(action)
        self.new_actions.append((media.key, action))
        self.changed_media.add(media.key)

    def add_candidate(self, candidate: Candidate) -> None:
        self._index(candidate)
        self.changed_candidates.add(candidate.candidate_id)
        self.new_candidates.add(candidate.candidate_id)

    def candidate_changed(self, candidate: Candidate) -> None:
        self.changed_candidates.add(candidate.candidate_id)

    def tombstone_changed(self, tombstone: Tombstone) -> None:
        key = (tombstone.user_key, tombstone.media_id)
        self.tombstones[key] = tombstone
        self.changed_tombstones.add(key)

    def erase(self, key: MediaKey, tombstone: Tombstone) -> None:
        """Forget the media, its actions and its candidates; keep only the tombstone."""
        self.media.pop(key, None)
        for candidate_id in self._by_media.pop(key, {}):
            self.candidates.pop(candidate_id, None)
            self._by_user.get(key[0], {}).pop(candidate_id, None)
            self.changed_candidates.discard(candidate_id)
            self.new_candidates.discard(candidate_id)
        self.changed_media.discard(key)
        self.new_media.discard(key)
        self.new_actions = [(k, a) for k, a in self.new_actions if k != key]
        self.erased.add(key)
        self.tombstone_changed(tombstone)
