"""No silent built-in HS256 secret outside development: a deployment without an auth
configuration refuses to start; GEMROLL_ENV=development (the local stack, tests) allows it."""

from __future__ import annotations

import pytest
from gemroll_common.auth import InsecureAuthConfiguration, require_configured_auth
from gemroll_common.settings import DEV_HS256_SECRET, AuthSettings, development_mode
from pydantic import SecretStr


@pytest.fixture
def no_auth_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("GEMROLL_ENV", "GEMROLL_AUTH_ALGORITHM", "GEMROLL_AUTH_HS256_SECRET",
                 "GEMROLL_AUTH_HS256_SECRET_FILE", "GEMROLL_AUTH_JWKS_URL",
                 "GEMROLL_AUTH_RS256_PUBLIC_KEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_unconfigured_auth_is_refused_outside_development(no_auth_env) -> None:
    with pytest.raises(InsecureAuthConfiguration, match="GEMROLL_ENV=development"):
        require_configured_auth(AuthSettings())


@pytest.mark.parametrize("env", ["production", "staging", "", "prod"])
def test_the_public_secret_set_explicitly_is_refused_too(no_auth_env, env: str) -> None:
    no_auth_env.setenv("GEMROLL_ENV", env)
    no_auth_env.setenv("GEMROLL_AUTH_HS256_SECRET", DEV_HS256_SECRET)
    with pytest.raises(InsecureAuthConfiguration):
        require_configured_auth(AuthSettings())


@pytest.mark.parametrize("env", ["development", "DEV", "test"])
def test_development_may_use_the_builtin_secret(no_auth_env, env: str) -> None:
    no_auth_env.setenv("GEMROLL_ENV", env)
    assert development_mode()
    auth = AuthSettings()
    assert require_configured_auth(auth) is auth


def test_a_configured_secret_or_rs256_starts_anywhere(no_auth_env) -> None:
    no_auth_env.setenv("GEMROLL_AUTH_HS256_SECRET", "a-private-secret-" + "x" * 32)
    require_configured_auth(AuthSettings())
    no_auth_env.delenv("GEMROLL_AUTH_HS256_SECRET")
    no_auth_env.setenv("GEMROLL_AUTH_ALGORITHM", "RS256")
    no_auth_env.setenv("GEMROLL_AUTH_JWKS_URL", "https://auth.example/.well-known/jwks.json")
    require_configured_auth(AuthSettings())
    require_configured_auth(AuthSettings(hs256_secret=SecretStr("y" * 40)))


def test_explicit_environ_mapping_is_honoured() -> None:
    auth = AuthSettings(hs256_secret=SecretStr(DEV_HS256_SECRET), algorithm="HS256")
    require_configured_auth(auth, {"GEMROLL_ENV": "development"})
    with pytest.raises(InsecureAuthConfiguration):
        require_configured_auth(auth, {"GEMROLL_ENV": "production"})


def test_the_ingest_service_refuses_to_start_without_auth(no_auth_env) -> None:
    from gemroll_ingest.app import create_app

    with pytest.raises(InsecureAuthConfiguration):
        create_app()
    no_auth_env.setenv("GEMROLL_ENV", "development")
    create_app()  # the local stack's way
