"""Shared runtime for gemroll services: settings, Kafka, Postgres, S3, auth, metrics, health.

Infrastructure helpers only; event shapes and topic names live in `gemroll_contracts`.
"""
