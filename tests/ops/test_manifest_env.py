"""The environment the manifests give each pod configures the services as intended: every
variable is a real setting (no typo silently ignored), secrets load from the mounted files,
and Kafka, PostgreSQL and S3 come out secured."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import ssl
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from gemroll_common.auth import TokenVerifier
from gemroll_common.db import ssl_option
from gemroll_common.kafka import broker_security
from gemroll_common.s3_client import http_client
from gemroll_common.settings import (
    AuthSettings,
    DatabaseSettings,
    DeploymentSettings,
    IdentitySettings,
    KafkaSettings,
    S3Settings,
)
from gemroll_contracts import Service
from gemroll_dev import k8s
from pydantic_settings import BaseSettings

# On a fresh machine the first test also builds kustomize and kubeconform and the schemas
# (`python -m gemroll_dev.ops_tools ensure` does it ahead).
pytestmark = pytest.mark.timeout(900)
COMMON = (KafkaSettings, DatabaseSettings, S3Settings, IdentitySettings, AuthSettings,
          DeploymentSettings)
PROCESS_ENV = {"PYTHONUNBUFFERED"}
SERVICE_SETTINGS = {
    Service.ingest: "IngestSettings", Service.classifier: "ClassifierSettings",
    Service.suggester: "SuggesterSettings", Service.policy: "PolicySettings",
}


def service_settings(service: Service) -> type[BaseSettings]:
    module = importlib.import_module(f"gemroll_{service.value}.settings")
    return getattr(module, SERVICE_SETTINGS[service])


def pod_env(objects: list[dict[str, Any]], name: str) -> dict[str, str]:
    maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"
                     and o["metadata"]["name"] == name]
    env: dict[str, str] = {}
    for source in deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]:
        env.update(maps[source["configMapRef"]["name"]]["data"])
    return env


def setting_for(variable: str, classes: tuple[type[BaseSettings], ...]) -> str | None:
    for name in (variable, variable.removesuffix("_FILE")):  # S3_CA_FILE is a path setting
        for cls in classes:
            prefix = (cls.model_config.get("env_prefix") or "").upper()
            if name.startswith(prefix) and name[len(prefix):].lower() in cls.model_fields:
                return f"{cls.__name__}.{name[len(prefix):].lower()}"
    return None


def _ca_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test ca")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("overlay", ["prod", "dev"])
@pytest.mark.parametrize("workload", k8s.WORKLOADS, ids=lambda w: w.app)
def test_pod_environment_configures_the_service(overlay, workload, objects, tmp_path,
                                                monkeypatch):
    service = workload.service
    classes = (*COMMON, service_settings(service))
    env = pod_env(objects[overlay], workload.name)
    unknown = [v for v in env if v not in PROCESS_ENV and setting_for(v, classes) is None]
    assert not unknown, f"variables no setting reads (typos are silently ignored): {unknown}"

    # Mount fake secrets where the pod would see them.
    ca = _ca_pem()
    for name in list(os.environ):
        if name.startswith(("KAFKA_", "DATABASE_", "S3_", "GEMROLL_")):
            monkeypatch.delenv(name)
    for variable, value in env.items():
        if value.startswith(k8s.SECRETS_ROOT + "/"):
            path = tmp_path / value.removeprefix(k8s.SECRETS_ROOT + "/")
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".crt":
                path.write_bytes(ca)
            elif variable == "DATABASE_URL_FILE":
                path.write_text(f"postgresql://{service.value}:pw@gemroll-postgres:5432/gemroll\n")
            else:
                path.write_text(f"secret-for-{variable.lower()}\n")
            value = str(path)
        monkeypatch.setenv(variable, value)

    kafka = KafkaSettings()
    assert kafka.sasl_username == f"gemroll-{service.value}"
    assert kafka.sasl_password.get_secret_value() == "secret-for-kafka_sasl_password_file"
    options = broker_security(kafka)
    assert options is not None and options.use_ssl
    database = DatabaseSettings()
    assert database.url.get_secret_value().startswith(f"postgresql://{service.value}:pw@")
    db_tls = ssl_option(database)
    assert isinstance(db_tls, ssl.SSLContext) and db_tls.check_hostname
    s3 = S3Settings()
    assert s3.secret_key.get_secret_value() == "secret-for-s3_secret_key_file"
    assert http_client(s3).connection_pool_kw["ca_certs"] == str(tmp_path / "s3-ca/ca.crt")
    if workload.identity:
        identity = IdentitySettings()
        assert identity.user_key_secret.get_secret_value() == \
            "secret-for-gemroll_user_key_secret_file"
        TokenVerifier(AuthSettings(), identity)  # a coherent token configuration
    own = service_settings(service)()
    if service is Service.policy:
        assert own.pseudonym_secret.get_secret_value() == \
            "secret-for-gemroll_policy_pseudonym_secret_file"
        assert own.gate_enabled is (workload.role == "gate")
    auth = AuthSettings()
    if overlay == "prod":
        assert auth.algorithm == "RS256" and auth.jwks_url
    else:
        assert auth.algorithm == "HS256"


def _key_and_cert() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gemroll-policy")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(2)
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            cert.public_bytes(serialization.Encoding.PEM))


def test_kafka_mtls_component_switches_to_client_certificates(mtls_objects, tmp_path,
                                                              monkeypatch):
    users = [o for o in mtls_objects if o["kind"] == "KafkaUser"]
    assert users and all(u["spec"]["authentication"] == {"type": "tls"} for u in users)
    env = pod_env(mtls_objects, "gemroll-policy-gate")
    for name in list(os.environ):
        if name.startswith("KAFKA_"):
            monkeypatch.delenv(name)
    key, cert = _key_and_cert()
    files = {"kafka-user/user.key": key, "kafka-user/user.crt": cert,
             "kafka-ca/ca.crt": _ca_pem()}  # what Strimzi's TLS user Secret holds
    for relative, content in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(content)
    for variable, value in env.items():
        if variable.startswith("KAFKA_"):
            monkeypatch.setenv(variable, value.replace(k8s.SECRETS_ROOT, str(tmp_path)))
    kafka = KafkaSettings()
    assert kafka.security_protocol == "SSL"
    assert kafka.bootstrap_servers.endswith(":9094")
    assert kafka.sasl_password is None  # the emptied *_FILE is ignored
    security = broker_security(kafka)
    assert security is not None and security.use_ssl
