"""python -m gemroll_dev.review [--host H] [--port P]: serve the review page.

Upstreams: GEMROLL_REVIEW_<SVC>_URL, else <SVC>_URL, else the running stack's stack.env."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from .app import PROXIED, create_app

DEFAULT_PORT = 18080


def upstreams_from_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    from gemroll_cli.client import ServiceUrls

    from ..stack import StackConfig
    from ..stack.services import service_url

    env = os.environ if env is None else env
    cfg = StackConfig.load(env=env)
    ports = {f"{name.upper()}_URL": service_url(cfg, name) for name in PROXIED}
    discovered = ServiceUrls.discover(env, defaults=ports)
    return {name: env.get(f"GEMROLL_REVIEW_{name.upper()}_URL") or getattr(discovered, name)
            for name in PROXIED}


def serve(host: str, port: int, upstreams: Mapping[str, str] | None = None) -> None:
    import uvicorn

    app = create_app(upstreams or upstreams_from_env())
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gemroll_dev.review")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
