"""Reliability: faults, load, hostile input, isolation and privacy (issue 8)."""
