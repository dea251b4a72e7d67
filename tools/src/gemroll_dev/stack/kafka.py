"""Apache Kafka: one KRaft node (broker + controller) from Maven Central jars, and the topics."""

from __future__ import annotations

import base64
import contextlib
import glob
import logging
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from gemroll_contracts import ALL_TOPICS, Topic

from .config import StackConfig, StackError
from .process import ProcessSpec, wait_until

if TYPE_CHECKING:
    from aiokafka.admin import AIOKafkaAdminClient

log = logging.getLogger("gemroll_dev.stack")

ISOLATED_SUFFIX = re.compile(r"\.t[0-9a-f]{8}l?")
"""The suffix of a test's private topics (gemroll_testkit.isolation.isolate): ".t" and its
unique, 8 hex digits (`uuid4().hex[:8]`), with an "l" for a benchmark's second env."""

DELETE_BATCH = 500
"""Topics per DeleteTopics request."""

JVM_OPTS = (
    "-Xms256m",
    "-Xmx768m",
    # C1 only: halves the broker's start on 2 cores; peak throughput does not matter here.
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseG1GC",
    "-Djava.awt.headless=true",
)

LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""


def libs_dir(cfg: StackConfig) -> Path:
    return cfg.cache_dir / "kafka" / "libs"


def ensure_jars(cfg: StackConfig) -> Path:
    """Copy the broker's jars from Maven Central into .cache/kafka/libs (only when missing)."""
    libs = libs_dir(cfg)
    if any(libs.glob("kafka_2.13-*.jar")):
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError("Kafka jars missing and `mvn` not found (apt-get install -y maven)")
    pom = cfg.root / "stack" / "kafka" / "pom.xml"
    partial = libs.with_name("libs.partial")
    shutil.rmtree(partial, ignore_errors=True)
    log.info("downloading Kafka jars with %s into %s", pom, libs)
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={partial}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(f"mvn failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    partial.replace(libs)
    return libs


def java_bin() -> str:
    candidates = [os.environ.get("JAVA_HOME", "") + "/bin/java", "/usr/bin/java"]
    candidates += sorted(glob.glob("/usr/lib/jvm/*/bin/java"))
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    raise StackError("no java found (Kafka 4 needs Java 17+): apt-get install -y openjdk-17-jre")


def conf_dir(cfg: StackConfig) -> Path:
    return cfg.run_dir / "kafka"


def data_dir(cfg: StackConfig) -> Path:
    return cfg.data_dir / "kafka"


def write_config(cfg: StackConfig) -> Path:
    """server.properties for a single combined node with a static one-voter quorum."""
    port, ctl = cfg.ports.kafka, cfg.ports.kafka_controller
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{ctl}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{ctl}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir(cfg)),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "10",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
    }
    folder = conf_dir(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "log4j2.properties").write_text(LOG4J2)
    path = folder / "server.properties"
    path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    return path


def _java_argv(cfg: StackConfig, main: str, *args: str) -> tuple[str, ...]:
    return (
        java_bin(),
        *JVM_OPTS,
        f"-Dlog4j2.configurationFile={conf_dir(cfg) / 'log4j2.properties'}",
        "-cp",
        f"{libs_dir(cfg)}/*",
        main,
        *args,
    )


def prepare(cfg: StackConfig) -> None:
    """Jars, config, and the storage format on first start."""
    ensure_jars(cfg)
    server_properties = write_config(cfg)
    if (data_dir(cfg) / "meta.properties").exists():
        return
    data_dir(cfg).mkdir(parents=True, exist_ok=True)
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    argv = _java_argv(
        # "--cluster-id=<id>": an id may start with "-", which would read as an option
        cfg, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}",
        "-c", str(server_properties)
    )
    log.info("formatting Kafka storage in %s", data_dir(cfg))
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"kafka storage format failed:\n{result.stdout[-3000:]}{result.stderr}")


@contextlib.asynccontextmanager
async def _admin(bootstrap: str, timeout_ms: int = 10000) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client, closed afterwards (also when it failed to start)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms)
    try:
        await admin.start()
        yield admin
    finally:
        await admin.close()


async def probe(bootstrap: str) -> bool:
    """Ready when the broker answers metadata requests and lists itself."""
    async with _admin(bootstrap, timeout_ms=3000) as admin:
        cluster = await admin.describe_cluster()
        return bool(cluster.get("brokers"))


def spec(cfg: StackConfig) -> ProcessSpec:
    bootstrap = f"127.0.0.1:{cfg.ports.kafka}"
    return ProcessSpec(
        name="kafka",
        argv=_java_argv(cfg, "kafka.Kafka", str(conf_dir(cfg) / "server.properties")),
        ready=lambda: probe(bootstrap),
        ports=(cfg.ports.kafka, cfg.ports.kafka_controller),
        cwd=cfg.run_dir,
        prepare=lambda: prepare(cfg),
        stop_timeout_s=cfg.stop_timeout_s,
    )


async def ensure_topics(
    bootstrap: str,
    topics: Iterable[Topic] = ALL_TOPICS,
    timeout_s: float = 30.0,
    suffix: str = "",
) -> list[str]:
    """Create the missing topics (partitions and `Topic.config`); return the names created.

    Existing topics are left as they are (a partition count is never lowered). `suffix` is
    appended to every name (isolated copies for tests, see KafkaSettings.topic_suffix)."""
    from aiokafka.admin import NewTopic
    from aiokafka.errors import TopicAlreadyExistsError, for_code

    wanted = {t.name + suffix: t for t in topics}
    created: list[str] = []

    async def attempt() -> bool:
        async with _admin(bootstrap) as admin:
            existing = set(await admin.list_topics())
            missing = [t for name, t in wanted.items() if name not in existing]
            if not missing:
                return True
            response = await admin.create_topics(
                [NewTopic(t.name + suffix, t.partitions, 1, topic_configs=t.config)
                 for t in missing]
            )
            retry = False
            for name, code, *rest in response.topic_errors:
                if code == 0:
                    created.append(name)
                    continue
                error = for_code(code)
                if error is TopicAlreadyExistsError:
                    continue
                if getattr(error, "retriable", False):
                    retry = True
                    continue
                raise StackError(f"creating topic {name} failed: {error.__name__} {rest}")
            return not retry

    await wait_until(attempt, timeout_s=timeout_s, what="kafka topic creation")
    if created:
        log.info("created topics: %s", ", ".join(sorted(created)))
    return created


def isolated_suffix(unique: str) -> str:
    """The topic suffix of the isolated env `unique` (ValueError when `prune` would miss it)."""
    suffix = f".t{unique}"
    if not ISOLATED_SUFFIX.fullmatch(suffix):
        raise ValueError(f"unique must be 8 hex digits (uuid4().hex[:8]), not {unique!r}")
    return suffix


_CONTRACT_TOPICS = frozenset(t.name for t in ALL_TOPICS)


def is_isolated_topic(name: str) -> bool:
    """Whether `name` is a contract topic with an isolated env's suffix (a test's copy)."""
    base, dot_t, unique = name.rpartition(".t")
    return base in _CONTRACT_TOPICS and ISOLATED_SUFFIX.fullmatch(dot_t + unique) is not None


async def delete_topics(bootstrap: str, names: Iterable[str]) -> list[str]:
    """Delete the named topics; those already gone are fine. Returns the names deleted.

    StackError when the broker refuses some (after trying all); connection errors propagate."""
    from aiokafka.errors import UnknownTopicOrPartitionError, for_code

    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    deleted: list[str] = []
    failed: list[str] = []
    async with _admin(bootstrap) as admin:
        for start in range(0, len(wanted), DELETE_BATCH):
            response = await admin.delete_topics(wanted[start:start + DELETE_BATCH])
            for name, code in response.topic_error_codes:
                if code == 0:
                    deleted.append(name)
                elif for_code(code) is not UnknownTopicOrPartitionError:
                    failed.append(f"{name}: {for_code(code).__name__}")
    if failed:
        raise StackError(f"{len(failed)} topics not deleted ({len(deleted)} were): "
                         + ", ".join(failed[:5]) + (" ..." if len(failed) > 5 else ""))
    return deleted


async def isolated_topics(bootstrap: str) -> list[str]:
    """The isolated test topics on the broker (see `is_isolated_topic`), sorted."""
    async with _admin(bootstrap) as admin:
        return sorted(n for n in await admin.list_topics() if is_isolated_topic(n))


async def prune_isolated_topics(bootstrap: str, keep: Collection[str] = ()) -> list[str]:
    """Delete every isolated test topic on the broker except those in `keep`: what killed test
    runs left. Topics of a test session still running elsewhere go too. Returns the deleted."""
    return await delete_topics(bootstrap, [n for n in await isolated_topics(bootstrap)
                                           if n not in keep])
