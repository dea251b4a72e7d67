"""Training pseudonyms: a keyed hash of the user key, so training data cannot be joined back."""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID


class Pseudonymizer:
    """`subject(user_key)`: HMAC-SHA256 of the user key with a secret of its own (64 hex).
    `opaque(kind, id)`: the same for the ids training records carry (candidates, media,
    actions), so none of them can be looked up on another topic."""

    _MAX_CACHED = 100_000

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the pseudonym secret must have at least 16 characters")
        self._key = secret.encode()
        self._cache: dict[str, str] = {}

    def subject(self, user_key: str) -> str:
        cached = self._cache.get(user_key)
        if cached is None:
            if len(self._cache) >= self._MAX_CACHED:
                self._cache.clear()
            cached = hmac.new(self._key, user_key.encode(), hashlib.sha256).hexdigest()
            self._cache[user_key] = cached
        return cached

    def opaque(self, kind: str, value: UUID) -> UUID:
        """A stable id for `value` that only the holder of the secret can link back."""
        digest = hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).digest()
        return UUID(bytes=digest[:16], version=4)

    def training_id(self, candidate_id: UUID) -> UUID:
        """The candidate's id on the training topics and in its training key."""
        return self.opaque("candidate", candidate_id)
