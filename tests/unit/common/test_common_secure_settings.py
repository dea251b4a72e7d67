"""Secured connections from configuration: secrets from files as Kubernetes mounts them, and
the Kafka (TLS + SASL/SCRAM or mTLS, as Strimzi issues them), PostgreSQL TLS and S3 https
options derived from the settings."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLScram512
from gemroll_common.db import ssl_option
from gemroll_common.kafka import broker_security
from gemroll_common.s3_client import http_client, make_minio
from gemroll_common.settings import (
    DatabaseSettings,
    IdentitySettings,
    KafkaSettings,
    S3Settings,
)
from pydantic import ValidationError

ENV_PREFIXES = ("KAFKA_", "DATABASE_", "S3_", "GEMROLL_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)


def _cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name | None = None,
          issuer_key: ec.EllipticCurvePrivateKey | None = None,
          ca: bool = False) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=1))
               .not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return builder.sign(issuer_key or key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def strimzi(tmp_path: Path) -> dict[str, Path]:
    """Secrets laid out as Strimzi issues them and Kubernetes mounts them: the cluster CA
    (`<cluster>-cluster-ca-cert`: ca.crt), a SCRAM user (`password`) and a TLS user
    (`user.crt`, `user.key`)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("cluster-ca v0", ca_key, ca=True)
    user_key = ec.generate_private_key(ec.SECP256R1())
    user = _cert("gemroll-policy", user_key, issuer=ca.subject, issuer_key=ca_key)
    files = {
        "ca": tmp_path / "kafka-ca" / "ca.crt",
        "password": tmp_path / "kafka-user" / "password",
        "user_crt": tmp_path / "kafka-user" / "user.crt",
        "user_key": tmp_path / "kafka-user" / "user.key",
    }
    for path in files.values():
        path.parent.mkdir(exist_ok=True)
    files["ca"].write_bytes(_pem(ca))
    files["password"].write_text("s3cr3t-scram\n")  # Kubernetes keeps a trailing newline
    files["user_crt"].write_bytes(_pem(user))
    files["user_key"].write_bytes(user_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return files


# --- secret files --------------------------------------------------------------------------

def test_secret_comes_from_its_file_stripped(monkeypatch, strimzi):
    monkeypatch.setenv("KAFKA_SASL_PASSWORD_FILE", str(strimzi["password"]))
    assert KafkaSettings().sasl_password.get_secret_value() == "s3cr3t-scram"


def test_environment_value_wins_over_the_file(monkeypatch, strimzi):
    monkeypatch.setenv("KAFKA_SASL_PASSWORD_FILE", str(strimzi["password"]))
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "from-env")
    assert KafkaSettings().sasl_password.get_secret_value() == "from-env"


def test_missing_secret_file_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("GEMROLL_USER_KEY_SECRET_FILE", str(tmp_path / "absent"))
    with pytest.raises(ValidationError, match="GEMROLL_USER_KEY_SECRET_FILE=.*absent"):
        IdentitySettings()


def test_every_secret_setting_reads_files(monkeypatch, tmp_path):
    values = {"DATABASE_URL": "postgresql://svc:pw@db:5432/gemroll", "S3_ACCESS_KEY": "ak",
              "S3_SECRET_KEY": "sk", "GEMROLL_USER_KEY_SECRET": "uk"}
    for name, value in values.items():
        (tmp_path / name).write_text(value + "\n")
        monkeypatch.setenv(f"{name}_FILE", str(tmp_path / name))
    assert DatabaseSettings().url.get_secret_value() == values["DATABASE_URL"]
    s3 = S3Settings()
    assert (s3.access_key.get_secret_value(), s3.secret_key.get_secret_value()) == ("ak", "sk")
    assert IdentitySettings().user_key_secret.get_secret_value() == "uk"


# --- Kafka ---------------------------------------------------------------------------------

def test_plaintext_has_no_security():
    assert broker_security(KafkaSettings()) is None


def test_sasl_ssl_scram_as_strimzi_issues_it(monkeypatch, strimzi):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "gemroll-policy")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD_FILE", str(strimzi["password"]))
    monkeypatch.setenv("KAFKA_SSL_CAFILE", str(strimzi["ca"]))
    security = broker_security(KafkaSettings())
    assert isinstance(security, SASLScram512)
    options = parse_security(security)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "gemroll-policy"
    assert options["sasl_plain_password"] == "s3cr3t-scram"
    ctx: ssl.SSLContext = options["ssl_context"]
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert [c["subject"] for c in ctx.get_ca_certs()] == [((("commonName", "cluster-ca v0"),),)]


def test_sasl_plaintext_uses_no_tls(monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "u")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "p")
    options = parse_security(broker_security(KafkaSettings()))
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["ssl_context"] is None


def test_mutual_tls_with_strimzi_user_certificate(monkeypatch, strimzi):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("KAFKA_SSL_CAFILE", str(strimzi["ca"]))
    monkeypatch.setenv("KAFKA_SSL_CERTFILE", str(strimzi["user_crt"]))
    monkeypatch.setenv("KAFKA_SSL_KEYFILE", str(strimzi["user_key"]))
    security = broker_security(KafkaSettings())
    assert type(security) is BaseSecurity
    options = parse_security(security)
    assert options["security_protocol"] == "SSL"
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED


def test_mutual_tls_with_a_key_that_does_not_match_fails(monkeypatch, strimzi, tmp_path):
    other = ec.generate_private_key(ec.SECP256R1())
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(other.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("KAFKA_SSL_CERTFILE", str(strimzi["user_crt"]))
    monkeypatch.setenv("KAFKA_SSL_KEYFILE", str(wrong))
    with pytest.raises(ssl.SSLError):
        broker_security(KafkaSettings())


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SASL_PLAINTEXT"])
def test_sasl_without_credentials_is_refused(monkeypatch, protocol):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", protocol)
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "gemroll-ingest")
    with pytest.raises(ValidationError, match="KAFKA_SASL_PASSWORD"):
        KafkaSettings()


def test_key_without_certificate_is_refused(monkeypatch, strimzi):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("KAFKA_SSL_KEYFILE", str(strimzi["user_key"]))
    with pytest.raises(ValidationError, match="KAFKA_SSL_CERTFILE"):
        KafkaSettings()


# --- PostgreSQL ----------------------------------------------------------------------------

def _db(**values: str) -> DatabaseSettings:
    return DatabaseSettings(**values)


def test_database_default_leaves_tls_to_asyncpg():
    assert ssl_option(_db()) is None


def test_database_url_sslmode_is_honoured():
    assert ssl_option(_db(url="postgresql://u:p@db/gemroll?sslmode=require")) == "require"
    assert ssl_option(_db(url="postgresql://u:p@db/gemroll?sslmode=disable")) is False


def test_database_setting_overrides_the_url(strimzi):
    option = ssl_option(_db(url="postgresql://u:p@db/gemroll?sslmode=disable",
                            sslmode="verify-full", sslrootcert=str(strimzi["ca"])))
    assert isinstance(option, ssl.SSLContext)
    assert option.check_hostname and option.verify_mode == ssl.CERT_REQUIRED
    assert len(option.get_ca_certs()) == 1


def test_database_verify_ca_checks_the_chain_not_the_name(strimzi):
    option = ssl_option(_db(sslmode="verify-ca", sslrootcert=str(strimzi["ca"])))
    assert option.verify_mode == ssl.CERT_REQUIRED and not option.check_hostname


def test_database_require_with_root_certificate_verifies_like_libpq(strimzi):
    option = ssl_option(_db(sslmode="require", sslrootcert=str(strimzi["ca"])))
    assert isinstance(option, ssl.SSLContext) and option.verify_mode == ssl.CERT_REQUIRED
    assert ssl_option(_db(sslmode="require")) == "require"


def test_database_client_certificate(strimzi):
    option = ssl_option(_db(sslmode="verify-full", sslrootcert=str(strimzi["ca"]),
                            sslcert=str(strimzi["user_crt"]), sslkey=str(strimzi["user_key"])))
    assert isinstance(option, ssl.SSLContext)


# --- S3 ------------------------------------------------------------------------------------

def test_s3_https_verifies_against_the_configured_ca(strimzi):
    settings = S3Settings(endpoint="https://minio.storage:443", ca_file=str(strimzi["ca"]))
    pool = http_client(settings)
    assert pool.connection_pool_kw["cert_reqs"] == "CERT_REQUIRED"
    assert pool.connection_pool_kw["ca_certs"] == str(strimzi["ca"])
    assert pool.connection_pool_kw["timeout"].connect_timeout == 10
    client = make_minio(settings)
    assert client._base_url.is_https


def test_s3_http_has_no_tls_options():
    pool = http_client(S3Settings(endpoint="http://127.0.0.1:18333"))
    assert "ca_certs" not in pool.connection_pool_kw


def test_s3_endpoint_without_scheme_is_refused():
    with pytest.raises(ValueError, match="S3_ENDPOINT"):
        make_minio(S3Settings(endpoint="minio.storage:9000"))
