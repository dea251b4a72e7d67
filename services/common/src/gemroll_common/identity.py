"""User keys: the opaque id every gemroll event and store uses instead of the account id."""

from __future__ import annotations

import hashlib
import hmac


def user_key(account_id: str, secret: str) -> str:
    """Keyed hash (HMAC-SHA256) of the account id: stable, opaque, 32 hex digits."""
    if not account_id:
        raise ValueError("account id must not be empty")
    return hmac.new(secret.encode(), account_id.encode(), hashlib.sha256).hexdigest()[:32]
