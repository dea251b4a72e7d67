"""Settings shared by every service, read from the environment (or `<NAME>_FILE` secret files).

Infrastructure endpoints use the plain names that `.run/stack.env` and Kubernetes Secrets
provide (`KAFKA_BOOTSTRAP_SERVERS`, `DATABASE_URL`, `S3_ENDPOINT`, ...); each service adds its
own `GEMROLL_<SVC>_` settings class.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class FileSecretsSettings(BaseSettings):
    """Any field may instead be given as a file path in `<ENV_NAME>_FILE` (Kubernetes secrets)."""

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        prefix = (cls.model_config.get("env_prefix") or "").upper()
        for name in cls.model_fields:
            variable = f"{prefix}{name.upper()}_FILE"
            env_file = os.environ.get(variable)
            if env_file and name not in values:
                try:
                    values[name] = Path(env_file).read_text().strip()
                except OSError as exc:
                    raise ValueError(f"{variable}={env_file}: cannot read the secret file "
                                     f"({exc.strerror or exc})") from None
        return values


class KafkaSettings(FileSecretsSettings):
    """Kafka client settings; TLS and SASL/SCRAM or mTLS as Strimzi issues them."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:19092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    topic_suffix: str = ""
    """Appended to every topic name (tests use it to isolate runs)."""

    @model_validator(mode="after")
    def _complete_security(self) -> KafkaSettings:
        if self.security_protocol.startswith("SASL_") and not (
            self.sasl_username and self.sasl_password and self.sasl_password.get_secret_value()
        ):
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs "
                             "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or _FILE)")
        if self.ssl_keyfile and not self.ssl_certfile:
            raise ValueError("KAFKA_SSL_KEYFILE is set but KAFKA_SSL_CERTFILE is not")
        return self


class DatabaseSettings(FileSecretsSettings):
    model_config = SettingsConfigDict(env_prefix="DATABASE_", extra="ignore")

    url: SecretStr = SecretStr("postgresql://gemroll:gemroll-dev@127.0.0.1:15432/gemroll")
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] | None = (
        None
    )
    """libpq's modes; unset: the URL's `sslmode` query parameter, else asyncpg's `prefer`."""
    sslrootcert: str | None = None
    """CA bundle for the server certificate (e.g. CloudNativePG's `<cluster>-ca` ca.crt)."""
    sslcert: str | None = None
    """Client certificate for TLS client authentication (with `sslkey`)."""
    sslkey: str | None = None
    pool_min: int = 1
    pool_max: int = 10


class S3Settings(FileSecretsSettings):
    model_config = SettingsConfigDict(env_prefix="S3_", extra="ignore")

    endpoint: str = "http://127.0.0.1:18333"
    access_key: SecretStr = SecretStr("gemroll")
    secret_key: SecretStr = SecretStr("gemroll-dev-secret")
    bucket: str = "gemroll-media"
    region: str = "us-east-1"
    ca_file: str | None = None
    server_side_encryption: bool = False
    """Ask the store for SSE-S3 (MinIO with KES); SeaweedFS in dev does not need it."""


class IdentitySettings(FileSecretsSettings):
    """Secrets for user pseudonyms. Must be the same in every service."""

    model_config = SettingsConfigDict(env_prefix="GEMROLL_", extra="ignore")

    user_key_secret: SecretStr = SecretStr("dev-user-key-secret-change-me")


DEV_HS256_SECRET = "dev-jwt-secret-change-me-please-32b"
"""The built-in HS256 secret: public (it is in this repository), for local development only."""

DEVELOPMENT_ENVIRONMENTS = frozenset({"development", "dev", "test"})


class DeploymentSettings(BaseSettings):
    """What kind of deployment this is: `GEMROLL_ENV` (development, dev, test: the local stack
    and the tests; anything else, the default included, is production)."""

    model_config = SettingsConfigDict(env_prefix="GEMROLL_", extra="ignore")

    env: str = "production"


def development_mode(environ: Mapping[str, str] | None = None) -> bool:
    """`GEMROLL_ENV` names a development or test environment (the local stack, the tests)."""
    value = (DeploymentSettings().env if environ is None
             else environ.get("GEMROLL_ENV", "production"))
    return value.strip().lower() in DEVELOPMENT_ENVIRONMENTS


class AuthSettings(FileSecretsSettings):
    """Bearer JWT: HS256 with a shared secret (development) or RS256 with a public key / JWKS."""

    model_config = SettingsConfigDict(env_prefix="GEMROLL_AUTH_", extra="ignore")

    algorithm: Literal["HS256", "RS256"] = "HS256"
    hs256_secret: SecretStr | None = SecretStr(DEV_HS256_SECRET)
    """Defaults to the public development secret, which services refuse outside development
    (see `gemroll_common.auth.require_configured_auth`)."""
    rs256_public_key: str | None = None
    jwks_url: str | None = None
    issuer: str | None = "gemroll-dev"
    audience: str | None = "gemroll"
    leeway_seconds: int = 30

    def uses_builtin_secret(self) -> bool:
        """HS256 with the public development secret (the default when nothing is set)."""
        return (self.algorithm == "HS256" and self.hs256_secret is not None
                and self.hs256_secret.get_secret_value() == DEV_HS256_SECRET)
