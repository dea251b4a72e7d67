"""Reliability harness: the whole pipeline as real processes, faults, hostile input, audits.

Used by `tests/reliability/` (small sizes, in `make test`) and by `python -m gemroll_dev.soak`
(full sizes and the load report).

* `private_stack`: a second Kafka / PostgreSQL / S3 on free ports, whose parts can be stopped
  and started (the shared stack in `.run/` is never touched);
* `services`: the four services as uvicorn processes on isolated topics and schemas, with
  their logs captured, SIGKILL and restart, RSS;
* `photos` and `driver`: a deterministic camera roll and the users who upload it;
* `audit`: every topic read back (read_committed) and checked against the pipeline's promises;
* `faults`: the fault plan run during an upload;
* `privacy`: scanning logs and topics for what must never appear there.
"""
