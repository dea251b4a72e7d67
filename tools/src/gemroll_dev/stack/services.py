"""Hook for the gemroll services (ingest, classifier, suggester, policy) in the local stack.

`up` starts the infrastructure (Kafka, PostgreSQL, S3), waits until it is ready, creates the
topics, database and bucket, and then starts every factory in SERVICES, in order, each as a
background process with its own pid file and log (`<run>/pids/<name>.pid`, `<run>/logs/<name>.log`).
`down` stops services before the infrastructure. Each spec's `exports` become extra lines in
`stack.env`. When the endpoints come from the environment (KAFKA_BOOTSTRAP_SERVERS, ...),
nothing is started, services included.

Each service is a FastAPI app built by `gemroll_<name>.app:create_app` (uvicorn --factory);
it reads the endpoints from the environment and answers /healthz when alive. The review
page's dev server (`review`) comes last. Ports follow `service_port`: 18080 (review) and
18081-18084 on the default stack, shifted with the Kafka port for an isolated one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from .config import Ports, StackConfig, StackEndpoints
from .process import ProcessSpec

ServiceFactory = Callable[[StackConfig, StackEndpoints], ProcessSpec]

SERVICES: list[ServiceFactory] = []
"""Started after the infrastructure, in this order."""


def register(factory: ServiceFactory) -> ServiceFactory:
    """Decorator: append `factory` to SERVICES."""
    SERVICES.append(factory)
    return factory


async def http_ready(url: str) -> bool:
    """A readiness probe: True when GET `url` answers 2xx."""
    import httpx

    async with httpx.AsyncClient(timeout=2.0) as client:
        response = await client.get(url)
        return response.is_success


SERVICE_PORTS: dict[str, int] = {
    "ingest": 18081, "classifier": 18082, "suggester": 18083, "policy": 18084,
}
REVIEW_PORT = 18080
"""Defaults for the stack on the default ports; see `service_port`."""


def service_port(cfg: StackConfig, name: str) -> int:
    """The port of `name` ("review" or a service) in the stack `cfg` describes: its default,
    shifted as far as the stack's Kafka port is from the default one. A second, isolated
    stack (other Kafka port) thereby gets its own service ports."""
    base = REVIEW_PORT if name == "review" else SERVICE_PORTS[name]
    return base + cfg.ports.kafka - Ports().kafka


def service_url(cfg: StackConfig, name: str) -> str:
    return f"http://127.0.0.1:{service_port(cfg, name)}"


def _service(name: str) -> ServiceFactory:
    def factory(cfg: StackConfig, endpoints: StackEndpoints) -> ProcessSpec:
        port = service_port(cfg, name)
        url = service_url(cfg, name)
        return ProcessSpec(
            name=name,
            argv=(sys.executable, "-m", "uvicorn", "--factory", f"gemroll_{name}.app:create_app",
                  "--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
            env={**endpoints.as_env(), "PYTHONUNBUFFERED": "1", "GEMROLL_ENV": "development"},
            ready=lambda: http_ready(f"{url}/healthz"),
            ports=(port,),
            cwd=cfg.root,
            exports={f"{name.upper()}_URL": url},
        )

    factory.__name__ = name
    return factory


def review(cfg: StackConfig, endpoints: StackEndpoints) -> ProcessSpec:
    """The review page's dev server (`gemroll-dev review`): static page + /api/<service>/ proxy."""
    port = service_port(cfg, "review")
    url = service_url(cfg, "review")
    upstreams = {f"GEMROLL_REVIEW_{svc.upper()}_URL": service_url(cfg, svc)
                 for svc in ("ingest", "suggester", "policy")}
    return ProcessSpec(
        name="review",
        argv=(sys.executable, "-m", "gemroll_dev.review", "--host", "127.0.0.1",
              "--port", str(port)),
        env={**upstreams, "PYTHONUNBUFFERED": "1"},
        ready=lambda: http_ready(f"{url}/healthz"),
        ports=(port,),
        cwd=cfg.root,
        exports={"REVIEW_URL": url},
    )


for _name in SERVICE_PORTS:
    register(_service(_name))
register(review)
