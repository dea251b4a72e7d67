"""Opaque cursors for listing a user's media, newest first (keyset pagination)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from .errors import InvalidCursor
from .media import MediaRecord

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


@dataclass(frozen=True)
class Page:
    items: list[MediaRecord]
    next_cursor: str | None


def page_of(rows: list[MediaRecord], limit: int) -> Page:
    """A page from up to `limit + 1` rows, newest first: the extra row only says there is more."""
    items = rows[:limit]
    if len(rows) <= limit:
        return Page(items=items, next_cursor=None)
    last = items[-1]
    assert last.created_at is not None
    return Page(items=items, next_cursor=Cursor(last.created_at, last.media_id).encode())
