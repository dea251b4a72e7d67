"""Thin adapters behind the ports: PostgreSQL, S3, Kafka, Pillow, multipart streaming."""
