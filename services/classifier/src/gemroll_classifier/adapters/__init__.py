"""Adapters: Pillow decoding, torch and onnx models, S3, PostgreSQL, Kafka."""
