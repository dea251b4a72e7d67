"""Hook for the gemroll services (ingest, classifier, suggester, policy) in the local stack.

`up` starts the infrastructure (Kafka, PostgreSQL, S3), waits until it is ready, creates the
topics, database and bucket, and then starts every factory in SERVICES, in order, each as a
background process with its own pid file and log (`<run>/pids/<name>.pid`, `<run>/logs/<name>.log`).
`down` stops services before the infrastructure. Each spec's `exports` become extra lines in
`stack.env`. When the endpoints come from the environment (KAFKA_BOOTSTRAP_SERVERS, ...),
nothing is started, services included.

Each service is a FastAPI app built by `gemroll_<name>.app:create_app` (uvicorn --factory);
it reads the endpoints from the environment and answers /healthz when alive.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable

from .config import StackConfig, StackEndpoints
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


SERVICE_PORTS: dict[str, int] = {"ingest": 18081, "classifier": 18082, "suggester": 18083, "policy": 18084}


def _service(name: str) -> ServiceFactory:
    def factory(cfg: StackConfig, endpoints: StackEndpoints) -> ProcessSpec:
        port = SERVICE_PORTS[name]
        url = f"http://127.0.0.1:{port}"
        return ProcessSpec(
            name=name,
            argv=(sys.executable, "-m", "uvicorn", "--factory", f"gemroll_{name}.app:create_app",
                  "--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
            env={**endpoints.as_env(), "PYTHONUNBUFFERED": "1"},
            ready=lambda: http_ready(f"{url}/healthz"),
            ports=(port,),
            cwd=cfg.root,
            exports={f"{name.upper()}_URL": url},
        )

    factory.__name__ = name
    return factory


def _has_app(name: str) -> bool:
    try:
        return importlib.util.find_spec(f"gemroll_{name}.app") is not None
    except ModuleNotFoundError:
        return False


for _name in SERVICE_PORTS:
    if _has_app(_name):  # a service without an app module yet is not started
        register(_service(_name))
