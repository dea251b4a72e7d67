"""Adapters: PostgreSQL stores, the Kafka gate loop, and the object-store eraser."""
