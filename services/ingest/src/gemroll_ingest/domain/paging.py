"""Opaque cursors for listing a user's media, newest first (keyset pagination)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from .errors import InvalidCursor

MAX_PAGE = 100


@dataclass(frozen=True)
class Cursor:
    """Position after the last item shown: its creation time and id."""

    created_at: datetime
    media_id: UUID

    def encode(self) -> str:
        raw = json.dumps({"t": self.created_at.isoformat(), "id": str(self.media_id)})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            raw = json.loads(base64.urlsafe_b64decode(padded.encode()))
            created = datetime.fromisoformat(raw["t"])
            if created.tzinfo is None:
                raise ValueError("naive time")
            return cls(created_at=created, media_id=UUID(raw["id"]))
        except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
            raise InvalidCursor("the cursor is not one this service issued") from exc

