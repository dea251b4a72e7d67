"""Benchmarks: `python -m gemroll_dev.bench.<service>` (run by `make bench-<service>`).

Each one reuses the local stack when it answers, else starts it and stops it afterwards
(`gemroll_dev.stack.testing.session_stack`), as `make test` does.
"""
