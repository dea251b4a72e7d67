"""Reliability harness: the whole pipeline as real processes, faults, hostile input, audits.

Used by `tests/reliability/` (small sizes, in `make test`) and by `python -m gemroll_dev.soak`
(full sizes and the load report).

* `private_stack`: a second Kafka / PostgreSQL / S3 on free ports, whose parts can be stopped
  and started (the shared stack in `.run/` is never touched);
* `services`: the four services as uvicorn processes on isolated topics and schemas, with
  their logs captured, SIGKILL and restart, RSS;
* `driver`: the users who upload a camera roll (`gemroll_testkit.photos.shot`);
* `audit`: every topic read back (read_committed) and checked against the pipeline's promises;
* `scenario`: the fault plan run during an upload, then the drain and the audit;
* `tokens`: bearer tokens an attacker would try; `fuzz`: schemathesis against a service.
"""
