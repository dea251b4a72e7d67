"""deploy/k8s: the generated files are current, every overlay renders and validates offline
against Kubernetes and CRD schemas, and the objects carry the settings that matter."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from gemroll_contracts import ALL_TOPICS, TOPICS_BY_NAME, Service, Visibility
from gemroll_dev import k8s
from gemroll_dev.ops_tools import KUBERNETES_VERSIONS, kube

# On a fresh machine the first test also builds kustomize and kubeconform and the schemas
# (`python -m gemroll_dev.ops_tools ensure` does it ahead).
pytestmark = pytest.mark.timeout(900)
ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = kube.OVERLAYS
SERVICES = [s.value for s in Service]


def of_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_generated_manifests_are_current():
    stale = k8s.stale_files(ROOT)
    assert not stale, f"stale generated files {stale}: run `python -m gemroll_dev.k8s write`"


def test_stale_check_notices_an_edit(tmp_path):
    for path, text in k8s.generated_files(ROOT).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    (tmp_path / "deploy/prometheus/rules").mkdir(parents=True)
    (tmp_path / "deploy/prometheus/rules/gemroll.rules.yml").write_text(
        (ROOT / "deploy/prometheus/rules/gemroll.rules.yml").read_text())
    assert k8s.stale_files(tmp_path) == []
    topics = tmp_path / "deploy/k8s/base/kafka/topics.yaml"
    topics.write_text(topics.read_text().replace("partitions: 6", "partitions: 7", 1))
    assert k8s.stale_files(tmp_path) == [Path("deploy/k8s/base/kafka/topics.yaml")]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_validates_against_kubernetes_and_crd_schemas(overlay, rendered):
    results = kube.validate(rendered[overlay])
    assert [r.version for r in results] == list(KUBERNETES_VERSIONS)
    count = len(kube.documents(rendered[overlay]))
    for result in results:
        assert result.failures == [], [(f["kind"], f["name"], f["msg"]) for f in result.failures]
        assert result.summary == {"valid": count, "invalid": 0, "errors": 0, "skipped": 0}


def test_kafka_mtls_component_validates(mtls_objects):
    for result in kube.validate(yaml.safe_dump_all(mtls_objects)):
        assert result.failures == [], [(f["kind"], f["name"], f["msg"]) for f in result.failures]
    (auth,) = [o for o in mtls_objects if o["kind"] == "TriggerAuthentication"]
    assert {p["parameter"] for p in auth["spec"]["secretTargetRef"]} == {"cert", "key", "ca"}


def test_validator_rejects_a_wrong_object(rendered):
    """The offline validation is real: an unknown field and a wrong type are caught."""
    docs = kube.documents(rendered["prod"])
    for doc in docs:
        if doc["kind"] == "Deployment":
            doc["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
        if doc["kind"] == "KafkaTopic":
            doc["spec"]["partitions"] = "six"
    failed = {(f["kind"]) for f in kube.validate(yaml.safe_dump_all(docs))[0].failures}
    assert failed == {"Deployment", "KafkaTopic"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_its_objects(overlay, objects):
    objs = objects[overlay]
    counts = Counter((o["kind"], o["metadata"]["name"]) for o in objs)
    assert all(n == 1 for n in counts.values()), [k for k, n in counts.items() if n > 1]
    for workload in k8s.WORKLOADS:
        for kind in ("Deployment", "Service", "ServiceAccount", "PodDisruptionBudget",
                     "NetworkPolicy", "ServiceMonitor", "ScaledObject"):
            assert (kind, workload.name) in counts, f"{overlay}: no {kind} {workload.name}"
        assert ("KafkaUser", workload.kafka_user) in counts
    assert {w.service for w in k8s.WORKLOADS} == set(Service)
    assert ("NetworkPolicy", "gemroll-default-deny") in counts
    assert ("PrometheusRule", "gemroll") in counts
    namespaces = {o["metadata"].get("namespace") for o in objs if o["kind"] != "Namespace"}
    assert namespaces == {"gemroll" if overlay == "prod" else "gemroll-dev"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_are_hardened(overlay, objects):
    for name, dep in of_kind(objects[overlay], "Deployment").items():
        pod = dep["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] >= 10000, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["automountServiceAccountToken"] is False, name
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes["tmp"], name
        for container in pod["containers"]:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["capabilities"] == {"drop": ["ALL"]}, name
            assert sc["runAsNonRoot"] is True, name
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], name
            for mount in container["volumeMounts"]:
                if mount["name"] != "tmp":
                    assert mount["readOnly"] is True, (name, mount)
    namespace = of_kind(objects[overlay], "Namespace")
    assert [ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
            for ns in namespace.values()] == ["restricted"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_and_resources(overlay, objects):
    for name, dep in of_kind(objects[overlay], "Deployment").items():
        (container,) = dep["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][bound]), (name, bound)
        assert "replicas" not in dep["spec"], f"{name}: KEDA owns the replica count"


def _env(objects: list[dict[str, Any]], deployment: dict[str, Any]) -> dict[str, str]:
    maps = of_kind(objects, "ConfigMap")
    env: dict[str, str] = {}
    for source in deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]:
        env.update(maps[source["configMapRef"]["name"]]["data"])
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_are_mounted_files_never_values(overlay, objects):
    objs = objects[overlay]
    for name, dep in of_kind(objs, "Deployment").items():
        env = _env(objs, dep)
        container = dep["spec"]["template"]["spec"]["containers"][0]
        assert "env" not in container, f"{name}: configuration comes from ConfigMaps"
        mounts = [m["mountPath"] for m in container["volumeMounts"]]
        for var in ("KAFKA_SASL_PASSWORD", "DATABASE_URL", "S3_ACCESS_KEY", "S3_SECRET_KEY"):
            assert var not in env, f"{name}: {var} must come from a file"
            path = env[f"{var}_FILE"]
            assert any(path.startswith(m + "/") for m in mounts), (name, var, path)
        for var in ("KAFKA_SSL_CAFILE", "DATABASE_SSLROOTCERT", "S3_CA_FILE"):
            assert any(env[var].startswith(m + "/") for m in mounts), (name, var)
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert env["KAFKA_SASL_USERNAME"] == k8s.WORKLOADS_BY_NAME[name].kafka_user
        assert env["DATABASE_SSLMODE"] == "verify-full"
        assert env["S3_ENDPOINT"].startswith("https://")
        for key in env:
            if any(word in key for word in ("PASSWORD", "SECRET", "TOKEN")):
                assert key.endswith("_FILE"), f"{name}: {key} holds a secret value"
    for name in ("gemroll-policy", "gemroll-policy-gate"):
        policy = of_kind(objs, "Deployment")[name]
        assert "GEMROLL_POLICY_PSEUDONYM_SECRET_FILE" in _env(objs, policy)
        volumes = {v["secret"]["secretName"]
                   for v in policy["spec"]["template"]["spec"]["volumes"] if "secret" in v}
        assert "gemroll-policy" in volumes  # the Strimzi KafkaUser's own secret
        assert "gemroll-cluster-ca-cert" in volumes


def test_gpu_component_only_in_prod(objects):
    prod = of_kind(objects["prod"], "Deployment")["gemroll-classifier"]
    pod = prod["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["resources"]["requests"]["nvidia.com/gpu"] == "1"
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} \
        in pod["tolerations"]
    assert _env(objects["prod"], prod)["GEMROLL_CLASSIFIER_DEVICE"] == "cuda"
    assert "nvidia/cuda" in (ROOT / "deploy/docker/classifier-cuda.Dockerfile").read_text()
    for name, dep in of_kind(objects["prod"], "Deployment").items():
        if name != "gemroll-classifier":
            limits = dep["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
            assert "nvidia.com/gpu" not in limits, name
    dev = of_kind(objects["dev"], "Deployment")["gemroll-classifier"]
    assert "nvidia.com/gpu" not in dev["spec"]["template"]["spec"]["containers"][0][
        "resources"]["limits"]
    assert _env(objects["dev"], dev)["GEMROLL_CLASSIFIER_DEVICE"] == "cpu"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_topics_match_the_registry(overlay, objects):
    topics = of_kind(objects[overlay], "KafkaTopic")
    assert {t["spec"]["topicName"] for t in topics.values()} == {t.name for t in ALL_TOPICS}
    replicas = 3 if overlay == "prod" else 1
    for resource in topics.values():
        topic = TOPICS_BY_NAME[resource["spec"]["topicName"]]
        assert resource["spec"]["partitions"] == topic.partitions
        assert resource["spec"]["config"] == topic.config
        assert resource["spec"]["replicas"] == replicas
        assert resource["metadata"]["labels"]["strimzi.io/cluster"] == k8s.STRIMZI_CLUSTER


def _acls(user: dict[str, Any], resource_type: str, operation: str) -> set[str]:
    return {acl["resource"]["name"] for acl in user["spec"]["authorization"]["acls"]
            if acl["resource"]["type"] == resource_type and operation in acl["operations"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_users_write_only_what_the_registry_allows(overlay, objects):
    users = of_kind(objects[overlay], "KafkaUser")
    assert set(users) == {f"gemroll-{s}" for s in SERVICES} | {k8s.KEDA_USER}
    for svc in Service:
        user = users[f"gemroll-{svc.value}"]
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        assert user["spec"]["authorization"]["type"] == "simple"
        assert _acls(user, "topic", "Write") == {t.name for t in ALL_TOPICS if svc in t.writers}
        assert _acls(user, "group", "Read") == {svc.value}
        assert _acls(user, "topic", "Read") == {t.name for t in k8s.reads(svc)}
        others = _acls(user, "group", "Describe") - {svc.value}
        # read-your-writes: the consent's subscribers' offsets, nothing more, and never Read
        assert others == ({"ingest.consent", "suggester.consent"}
                          if svc is Service.policy else set()), svc
    training = {t.name for t in ALL_TOPICS if t.visibility is Visibility.training}
    assert training
    for name, user in users.items():
        writes_training = _acls(user, "topic", "Write") & training
        assert writes_training == (training if name == "gemroll-policy" else set()), name
        assert not any(acl["resource"]["type"] == "cluster" or "All" in acl["operations"]
                       for acl in user["spec"]["authorization"]["acls"]), name
    keda = users[k8s.KEDA_USER]
    ops = {op for acl in keda["spec"]["authorization"]["acls"] for op in acl["operations"]}
    assert ops == {"Describe"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscaling_on_consumer_lag(overlay, objects):
    scaled = of_kind(objects[overlay], "ScaledObject")
    deployments = of_kind(objects[overlay], "Deployment")
    for workload in k8s.WORKLOADS:
        so = scaled[workload.name]
        assert so["spec"]["scaleTargetRef"]["name"] in deployments
        assert 1 <= so["spec"]["minReplicaCount"] <= so["spec"]["maxReplicaCount"]
        kafka = [t for t in so["spec"]["triggers"] if t["type"] == "kafka"]
        cpu = [t for t in so["spec"]["triggers"] if t["type"] == "cpu"]
        assert len(cpu) == (1 if workload.api else 0)
        if workload.scale_on is None:
            assert not kafka and cpu, f"{workload.name} scales on CPU"
            continue
        (trigger,) = kafka
        topic = TOPICS_BY_NAME[trigger["metadata"]["topic"]]
        assert topic in workload.consumes
        assert trigger["metadata"]["consumerGroup"].startswith(workload.service.value)
        assert trigger["metadata"]["bootstrapServersFromEnv"] == "KAFKA_BOOTSTRAP_SERVERS"
        assert trigger["authenticationRef"]["name"] == k8s.KEDA_TRIGGER_AUTH
        if not workload.api:  # more consumers than partitions would sit idle
            assert so["spec"]["maxReplicaCount"] <= topic.partitions
    assert k8s.KEDA_TRIGGER_AUTH in of_kind(objects[overlay], "TriggerAuthentication")
    lag_scaled = {w.service for w in k8s.WORKLOADS if w.scale_on is not None}
    assert lag_scaled == set(Service)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default(overlay, objects):
    policies = of_kind(objects[overlay], "NetworkPolicy")
    deny = policies["gemroll-default-deny"]["spec"]
    assert deny["podSelector"] == {"matchLabels": {"app.kubernetes.io/part-of": "gemroll"}}
    assert deny["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny and "egress" not in deny
    for workload in k8s.WORKLOADS:
        spec = policies[workload.name]["spec"]
        assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == workload.app
        (rule,) = spec["ingress"]
        assert rule["ports"] == [{"protocol": "TCP", "port": k8s.HTTP_PORT}]
        sources = {s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                   for s in rule["from"]}
        assert sources == ({"monitoring", "ingress-nginx"} if workload.api else {"monitoring"})


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_monitoring_objects(overlay, objects):
    objs = objects[overlay]
    rule = of_kind(objs, "PrometheusRule")["gemroll"]
    source = yaml.safe_load((ROOT / "deploy/prometheus/rules/gemroll.rules.yml").read_text())
    assert rule["spec"]["groups"] == source["groups"]
    for name, monitor in of_kind(objs, "ServiceMonitor").items():
        service = of_kind(objs, "Service")[name]
        assert monitor["spec"]["selector"]["matchLabels"].items() <= \
            service["metadata"]["labels"].items()
        assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
        assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    dashboards = [c for c in of_kind(objs, "ConfigMap").values()
                  if c["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    assert len(dashboards) == 1
    assert dashboards[0]["data"]["gemroll.json"] == \
        (ROOT / "deploy/grafana/gemroll.json").read_text()
