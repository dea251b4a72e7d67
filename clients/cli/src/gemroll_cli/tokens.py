"""Development bearer tokens and the user's opaque key, made the way the services' defaults
(`gemroll_common.auth`, `gemroll_common.identity`) expect them, from the same variables."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Mapping
from pathlib import Path

DEV_HS256_SECRET = "dev-jwt-secret-change-me-please-32b"
"""The services' built-in HS256 secret: public, accepted in development only."""
DEV_USER_KEY_SECRET = "dev-user-key-secret-change-me"
DEV_ISSUER = "gemroll-dev"
DEV_AUDIENCE = "gemroll"


def _setting(env: Mapping[str, str], name: str, default: str) -> str:
    """`name` from the environment, else the file named by `<name>_FILE`, else `default`."""
    if (value := env.get(name)) is not None:
        return value
    if secret_file := env.get(f"{name}_FILE"):
        return Path(secret_file).read_text().strip()
    return default


def dev_token(user: str, ttl_seconds: int = 12 * 3600,
              env: Mapping[str, str] | None = None) -> str:
    """A development HS256 token for `user`: the services' default dev secret, issuer and
    audience, or GEMROLL_AUTH_HS256_SECRET, _ISSUER and _AUDIENCE."""
    import jwt

    env = os.environ if env is None else env
    if _setting(env, "GEMROLL_AUTH_ALGORITHM", "HS256") != "HS256":
        raise ValueError("development tokens need GEMROLL_AUTH_ALGORITHM=HS256")
    now = int(time.time())
    claims: dict[str, object] = {"sub": user, "iat": now, "exp": now + ttl_seconds}
    if issuer := _setting(env, "GEMROLL_AUTH_ISSUER", DEV_ISSUER):
        claims["iss"] = issuer
    if audience := _setting(env, "GEMROLL_AUTH_AUDIENCE", DEV_AUDIENCE):
        claims["aud"] = audience
    secret = _setting(env, "GEMROLL_AUTH_HS256_SECRET", DEV_HS256_SECRET)
    return jwt.encode(claims, secret, algorithm="HS256")


def user_key_of(user: str, env: Mapping[str, str] | None = None) -> str:
    """The opaque key events carry for `user`: HMAC-SHA256 of the account id with the
    services' GEMROLL_USER_KEY_SECRET, 32 hex digits."""
    if not user:
        raise ValueError("account id must not be empty")
    env = os.environ if env is None else env
    secret = _setting(env, "GEMROLL_USER_KEY_SECRET", DEV_USER_KEY_SECRET)
    return hmac.new(secret.encode(), user.encode(), hashlib.sha256).hexdigest()[:32]
