"""Benchmarks: `python -m gemroll_dev.bench.<service>` (run by `make bench-<service>`)."""
