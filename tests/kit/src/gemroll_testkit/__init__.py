"""Test support for gemroll: what `tests/`, the benchmarks and the soak run share.

* `eventually`: wait for a condition (one signature everywhere);
* `isolation`: settings for the shared stack with topic, schema and group names private to
  one test;
* `topics`: read a topic back (read_committed), offsets and lags, raw records in;
* `processes`: a service (or any server) as a subprocess with its log, ready on /readyz;
* `photos`: photo-like images and phone metadata as JPEG, PNG, WebP, HEIC bytes, a
  deterministic camera roll, and broken files;
* `events`: contract events as the services publish them (no infrastructure);
* `faults`: the transient failures a service meets, as exceptions to inject;
* `local_classifier`: the classifier's use case in one process, without Kafka, S3, PostgreSQL;
* `hostile`: bad files for the upload API and malformed records for every consumed topic;
* `reliability`: the whole pipeline as real processes, faults, audits (see its docstring).
"""

from .waiting import eventually

__all__ = ["eventually"]
