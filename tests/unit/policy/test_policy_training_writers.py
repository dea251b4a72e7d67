"""Only the policy service writes the training topics: in the registry, in every other
service's code, in the shared publisher, and in the Kubernetes Kafka ACLs."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
import yaml
from gemroll_common.kafka import EventPublisher
from gemroll_common.settings import KafkaSettings
from gemroll_contracts import (
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    AdmissionBasis,
    Service,
    TrainingAdmitted,
    TrainingAdmittedData,
    Visibility,
)

ROOT = Path(__file__).resolve().parents[3]
TRAINING_TOPICS = (TRAINING_MEDIA, TRAINING_DECISIONS)
TRAINING_NAMES = {t.name for t in TRAINING_TOPICS}
TRAINING_SYMBOLS = {"TRAINING_MEDIA", "TRAINING_DECISIONS"}


def test_the_registry_names_policy_as_the_only_writer():
    for topic in TRAINING_TOPICS:
        assert topic.writers == frozenset({Service.policy})
        assert topic.visibility is Visibility.training


class _Broker:
    def __init__(self) -> None:
        self.published: list[str] = []

    async def publish(self, *_: object, topic: str, **__: object) -> None:
        self.published.append(topic)


@pytest.mark.parametrize("service", [s for s in Service if s is not Service.policy])
async def test_the_shared_publisher_refuses_every_other_service(service):
    broker = _Broker()
    publisher = EventPublisher(broker, KafkaSettings(), service)  # type: ignore[arg-type]
    event = TrainingAdmitted(producer=service.value, data=TrainingAdmittedData(
        candidate_id=uuid.uuid4(), subject="a" * 64, media_id=uuid.uuid4(),
        bucket="gemroll-media", object_key="users/x/media/y", basis=AdmissionBasis.shared,
        evidence=[uuid.uuid4()], policy_version="v", decided_at="2025-01-01T00:00:00Z"))
    with pytest.raises(PermissionError):
        await publisher.publish(TRAINING_MEDIA, event, key="k")
    assert broker.published == []


def training_references(source: str) -> list[str]:
    """Names of training topics (constants or literal names) used in Python source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id in TRAINING_SYMBOLS:
            found.append(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in TRAINING_SYMBOLS:
            found.append(node.attr)
        elif isinstance(node, ast.alias) and node.name in TRAINING_SYMBOLS:
            found.append(node.name)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and any(
                name in node.value for name in TRAINING_NAMES):
            found.append(node.value)
    return found


def test_the_reference_finder_finds_references():
    assert training_references("from gemroll_contracts import TRAINING_MEDIA") != []
    assert training_references("import c\nc.TRAINING_DECISIONS") != []
    assert training_references("t = 'gemroll.training.media.v1.tX'") != []
    assert training_references("from gemroll_contracts import TRAINING_CANDIDATES") == []


def test_no_other_service_code_touches_the_training_topics():
    sources = [p for p in (ROOT / "services").glob("*/src/**/*.py")
               if "/services/policy/" not in p.as_posix()]
    assert sources, "no service sources found"
    offenders = {str(p.relative_to(ROOT)): refs for p in sources
                 if (refs := training_references(p.read_text()))}
    assert offenders == {}


def kafka_users(root: Path) -> list[dict]:
    users = []
    for path in sorted(root.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "KafkaUser":
                users.append(doc)
    return users


def training_writers(users: list[dict]) -> dict[str, set[str]]:
    """KafkaUser name -> training topics it may write (literal or prefix ACLs)."""
    writers: dict[str, set[str]] = {}
    for user in users:
        name = user["metadata"]["name"]
        for acl in user.get("spec", {}).get("authorization", {}).get("acls", []):
            resource, ops = acl.get("resource", {}), set(acl.get("operations", []))
            if resource.get("type") != "topic" or not ops & {"Write", "All"}:
                continue
            pattern = resource.get("name", "")
            prefix = resource.get("patternType") == "prefix" or pattern == "*"
            for topic in TRAINING_NAMES:
                if pattern == topic or (prefix and topic.startswith(pattern.rstrip("*"))):
                    writers.setdefault(name, set()).add(topic)
    return writers


def test_the_acl_check_catches_a_foreign_writer():
    rogue = {"kind": "KafkaUser", "metadata": {"name": "gemroll-classifier"}, "spec": {
        "authorization": {"acls": [{"resource": {"type": "topic", "name": "gemroll.training.",
                                                 "patternType": "prefix"},
                                    "operations": ["Write"]}]}}}
    assert training_writers([rogue]) == {"gemroll-classifier": TRAINING_NAMES}


def test_kubernetes_acls_grant_training_writes_to_the_policy_service_alone():
    users = kafka_users(ROOT / "deploy")
    assert users, "the Kubernetes manifests define no KafkaUser"
    assert training_writers(users) == {"gemroll-policy": TRAINING_NAMES}
