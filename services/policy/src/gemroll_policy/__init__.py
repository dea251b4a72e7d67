"""The policy service: consent ledger, training-data gate, revocation, erasure and retention.

Every media item that could become training data passes through this service's gate; the
gate admits it only with consent and a qualifying user action as evidence, and fails closed.
"""
