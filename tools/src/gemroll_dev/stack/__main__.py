"""python -m gemroll_dev.stack up|down|status|env|prune-topics [--run-dir D] [--kafka-port N] ..."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from .config import StackConfig, StackError
from .control import down, prune_topics, status, up_async


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--run-dir", help="run folder (default: <repo>/.run, or GEMROLL_STACK_RUN_DIR)"
    )
    common.add_argument("--kafka-port", type=int, help="Kafka port (controller: +1)")
    common.add_argument("--postgres-port", type=int)
    common.add_argument("--s3-port", type=int, help="S3 port (SeaweedFS uses it .. +9)")
    common.add_argument("--timeout", type=float, help="readiness timeout in seconds")
    parser = argparse.ArgumentParser(prog="python -m gemroll_dev.stack")
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", parents=[common],
                               help="start (or reuse) and provision the stack")
    up_parser.add_argument("--infra-only", action="store_true",
                           help="only Kafka, PostgreSQL and S3, not the gemroll services")
    sub.add_parser("down", parents=[common], help="stop what the run folder's pid files record")
    sub.add_parser("status", parents=[common], help="show the components (exit 1: not all up)")
    sub.add_parser("env", parents=[common], help="print stack.env")
    prune_parser = sub.add_parser(
        "prune-topics", parents=[common],
        help="delete the isolated test topics (<topic>.t<unique>) killed test runs left")
    prune_parser.add_argument("--dry-run", action="store_true", help="only list them")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # expected errors while polling
    cfg = StackConfig.load(
        run_dir=args.run_dir,
        kafka_port=args.kafka_port,
        postgres_port=args.postgres_port,
        s3_port=args.s3_port,
        ready_timeout_s=args.timeout,
    )
    try:
        if args.command == "up":
            result = asyncio.run(up_async(cfg, with_services=not args.infra_only))
            for key, value in result.exports.items():
                print(f"{key}={value}")
        elif args.command == "down":
            stopped = down(cfg)
            print("stopped: " + (", ".join(stopped) or "nothing was running"))
        elif args.command == "status":
            rows = status(cfg)
            for row in rows:
                state = f"running pid={row.pid}" if row.running else "stopped"
                ports = ",".join(map(str, row.ports))
                print(f"{row.name:<10} {state:<22} {ports}")
            return 0 if all(r.running for r in rows) else 1
        elif args.command == "env":
            if not cfg.env_file.exists():
                print(f"no {cfg.env_file}; run: python -m gemroll_dev.stack up", file=sys.stderr)
                return 1
            sys.stdout.write(cfg.env_file.read_text())
        elif args.command == "prune-topics":
            names = prune_topics(cfg, dry_run=args.dry_run)
            if args.dry_run:
                print("\n".join(names + [f"{len(names)} isolated test topics (dry run)"]))
            else:
                print(f"removed {len(names)} isolated test topics")
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
