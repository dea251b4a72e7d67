"""Bearer tokens an attacker would try: expired, badly signed, `alg: none`, HS/RS confusion,
missing claims, wrong audience or issuer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .services import PipelineConfig


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    return ".".join((_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()),
                     _b64(signature)))


def hs256_with_raw_key(claims: dict, key: bytes) -> str:
    """HS256 signed with any bytes as the secret (PyJWT refuses PEM keys as HMAC secrets,
    which is what an attacker does by hand: the HS/RS confusion attack)."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


def claims_for(account: str, cfg: PipelineConfig, **overrides: object) -> dict:
    now = int(time.time())
    auth = cfg.auth
    claims: dict[str, object] = {"sub": account, "iat": now, "exp": now + 3600,
                                 "iss": auth.issuer, "aud": auth.audience}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def forged_tokens(account: str, cfg: PipelineConfig) -> dict[str, str]:
    """Tokens for `account` that an HS256-configured service must refuse."""
    secret = cfg.secrets.jwt
    now = int(time.time())
    good = claims_for(account, cfg)
    return {
        "expired": jwt.encode(claims_for(account, cfg, iat=now - 7200, exp=now - 3600), secret,
                              algorithm="HS256"),
        "wrong_signature": jwt.encode(good, "not-the-secret-" + secret, algorithm="HS256"),
        "signed_with_user_key_secret": jwt.encode(good, cfg.secrets.user_key, algorithm="HS256"),
        "alg_none": unsigned({"alg": "none", "typ": "JWT"}, good),
        "alg_None_capitalised": unsigned({"alg": "None", "typ": "JWT"}, good),
        "alg_none_with_signature": unsigned({"alg": "none"}, good, b"x" * 32),
        "alg_hs512": jwt.encode(good, secret, algorithm="HS512"),
        "tampered_sub": _swap_payload(jwt.encode(good, secret, algorithm="HS256"),
                                      {**good, "sub": account + "x"}),
        "no_exp": jwt.encode({k: v for k, v in good.items() if k != "exp"}, secret,
                             algorithm="HS256"),
        "no_sub": jwt.encode({k: v for k, v in good.items() if k != "sub"}, secret,
                             algorithm="HS256"),
        "empty_sub": jwt.encode({**good, "sub": ""}, secret, algorithm="HS256"),
        "numeric_sub": jwt.encode({**good, "sub": 12345}, secret, algorithm="HS256"),
        "wrong_audience": jwt.encode({**good, "aud": "someone-else"}, secret, algorithm="HS256"),
        "wrong_issuer": jwt.encode({**good, "iss": "evil"}, secret, algorithm="HS256"),
        "not_yet_valid": jwt.encode({**good, "nbf": now + 3600}, secret, algorithm="HS256"),
        "garbage": "not.a.token",
        "empty_segments": "..",
        "huge": "a" * 20_000,
    }


def _swap_payload(token: str, claims: dict) -> str:
    head, _, sig = token.split(".")
    return f"{head}.{_b64(json.dumps(claims).encode())}.{sig}"


def rsa_keypair() -> tuple[bytes, bytes]:
    """(private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public
