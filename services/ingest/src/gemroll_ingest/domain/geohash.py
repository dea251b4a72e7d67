"""Geohash encoding: how gemroll coarsens a location before it leaves the ingest service."""

from __future__ import annotations

import pygeohash

MAX_PUBLIC_PRECISION = 5
"""At most 5 characters (a cell of about 4.9 km x 4.9 km) may travel in events."""


def encode(latitude: float, longitude: float, precision: int = MAX_PUBLIC_PRECISION) -> str:
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise ValueError("latitude must be in [-90, 90] and longitude in [-180, 180]")
    if not 1 <= precision <= 12:
        raise ValueError("precision must be 1..12")
    return pygeohash.encode(latitude, longitude, precision=precision)


def coarse(latitude: float, longitude: float) -> str:
    """The public, coarse location of an exact fix."""
    return encode(latitude, longitude, MAX_PUBLIC_PRECISION)
