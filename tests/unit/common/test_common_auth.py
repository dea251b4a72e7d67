"""Bearer-JWT verification: one pinned algorithm, expiry, issuer/audience, opaque user keys."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import HTTPException
from gemroll_common.auth import TokenVerifier, issue_dev_token
from gemroll_common.identity import user_key
from gemroll_common.settings import AuthSettings, IdentitySettings
from pydantic import SecretStr

AUTH = AuthSettings(hs256_secret=SecretStr("s" * 40))
IDENTITY = IdentitySettings(user_key_secret=SecretStr("k" * 32))


def claims(**extra: object) -> dict[str, object]:
    now = int(time.time())
    return {"sub": "alice", "iss": "gemroll-dev", "aud": "gemroll", "iat": now,
            "exp": now + 60, **extra}


def test_dev_token_verifies_to_the_opaque_user_key() -> None:
    principal = TokenVerifier(AUTH, IDENTITY).verify(issue_dev_token("alice", AUTH))
    assert principal.account_id == "alice"
    assert principal.user_key == user_key("alice", "k" * 32)
    assert len(principal.user_key) == 32 and "alice" not in principal.user_key


@pytest.mark.parametrize("token", [
    jwt.encode(claims(), "wrong-secret-wrong-secret-wrong-secret", algorithm="HS256"),
    jwt.encode(claims(exp=int(time.time()) - 3600), "s" * 40, algorithm="HS256"),
    jwt.encode(claims(aud="someone-else"), "s" * 40, algorithm="HS256"),
    jwt.encode(claims(iss="evil"), "s" * 40, algorithm="HS256"),
    jwt.encode({k: v for k, v in claims().items() if k != "sub"}, "s" * 40, algorithm="HS256"),
    jwt.encode(claims(), None, algorithm="none"),
    "not-a-jwt",
], ids=["bad-signature", "expired", "audience", "issuer", "no-sub", "alg-none", "garbage"])
def test_bad_tokens_get_401(token: str) -> None:
    with pytest.raises(HTTPException) as info:
        TokenVerifier(AUTH, IDENTITY).verify(token)
    assert info.value.status_code == 401


def test_rs256_refuses_hs256_tokens_signed_with_the_public_key() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    rs = AuthSettings(algorithm="RS256", rs256_public_key=public_pem, hs256_secret=None)
    verifier = TokenVerifier(rs, IDENTITY)
    assert verifier.verify(jwt.encode(claims(), private, algorithm="RS256")).account_id == "alice"
    forged = _hs256_with_raw_key(claims(), public_pem.encode())
    with pytest.raises(HTTPException):
        verifier.verify(forged)


def _hs256_with_raw_key(payload: dict[str, object], key: bytes) -> str:
    """Sign HS256 with arbitrary key bytes (PyJWT refuses PEM keys for HMAC itself)."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + b"." + b64(json.dumps(payload).encode())
    signature = hmac.new(key, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64(signature)).decode()
