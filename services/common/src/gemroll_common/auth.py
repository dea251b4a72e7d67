"""Bearer-JWT authentication for every /v1 route. The caller is the token's `sub`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .identity import user_key
from .settings import AuthSettings, IdentitySettings, development_mode


class InsecureAuthConfiguration(RuntimeError):
    """No real authentication is configured outside development: refuse to start."""


def require_configured_auth(
    auth: AuthSettings, environ: Mapping[str, str] | None = None
) -> AuthSettings:
    """`auth` unchanged, unless it would verify tokens with the public built-in HS256 secret
    (nothing configured) while `GEMROLL_ENV` is not development: then refuse, loudly.
    Services call this on the settings they read from the environment at startup."""
    if auth.uses_builtin_secret() and not development_mode(environ):
        raise InsecureAuthConfiguration(
            "refusing to start: no authentication is configured, and the built-in HS256 "
            "secret is public. Configure GEMROLL_AUTH_ALGORITHM=RS256 with "
            "GEMROLL_AUTH_JWKS_URL or GEMROLL_AUTH_RS256_PUBLIC_KEY, or a private "
            "GEMROLL_AUTH_HS256_SECRET (or _FILE); for local development only, set "
            "GEMROLL_ENV=development.")
    return auth


@dataclass(frozen=True)
class Principal:
    account_id: str
    user_key: str


class TokenVerifier:
    """Verifies tokens with exactly one configured algorithm (no `none`, no HS/RS confusion)."""

    def __init__(self, auth: AuthSettings, identity: IdentitySettings) -> None:
        self._auth = auth
        self._key_secret = identity.user_key_secret.get_secret_value()
        self._jwks = jwt.PyJWKClient(auth.jwks_url) if auth.jwks_url else None
        if auth.algorithm == "HS256" and not auth.hs256_secret:
            raise ValueError("GEMROLL_AUTH_HS256_SECRET is required for HS256")
        if auth.algorithm == "RS256" and not (auth.rs256_public_key or auth.jwks_url):
            raise ValueError("RS256 needs GEMROLL_AUTH_RS256_PUBLIC_KEY or GEMROLL_AUTH_JWKS_URL")

    def _key(self, token: str) -> object:
        if self._auth.algorithm == "HS256":
            assert self._auth.hs256_secret is not None
            return self._auth.hs256_secret.get_secret_value()
        if self._jwks is not None:
            return self._jwks.get_signing_key_from_jwt(token).key
        return self._auth.rs256_public_key

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key(token),  # type: ignore[arg-type]
                algorithms=[self._auth.algorithm],
                audience=self._auth.audience,
                issuer=self._auth.issuer,
                leeway=self._auth.leeway_seconds,
                options={"require": ["sub", "exp"]},
            )
        except jwt.PyJWTError as exc:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail={"code": "invalid_token", "message": str(exc)},
                headers={"WWW-Authenticate": "Bearer"},
            ) from None
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub or len(sub) > 256:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail={"code": "invalid_token", "message": "sub must be a non-empty string"},
            )
        return Principal(account_id=sub, user_key=user_key(sub, self._key_secret))


def issue_dev_token(account_id: str, auth: AuthSettings, ttl_seconds: int = 12 * 3600) -> str:
    """A development HS256 token for `account_id` (what `gemroll token USER` prints)."""
    if auth.algorithm != "HS256" or auth.hs256_secret is None:
        raise ValueError("development tokens need HS256 with a configured secret")
    now = int(time.time())
    claims: dict[str, object] = {"sub": account_id, "iat": now, "exp": now + ttl_seconds}
    if auth.issuer:
        claims["iss"] = auth.issuer
    if auth.audience:
        claims["aud"] = auth.audience
    return jwt.encode(claims, auth.hs256_secret.get_secret_value(), algorithm="HS256")


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency; the app must hold a TokenVerifier in `app.state.token_verifier`."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail={"code": "missing_token", "message": "Authorization: Bearer <jwt> required"},
            headers={"WWW-Authenticate": "Bearer"},
        )
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.verify(credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
