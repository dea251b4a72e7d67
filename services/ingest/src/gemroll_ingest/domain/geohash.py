"""Geohash encoding: how gemroll coarsens a location before it leaves the ingest service."""

from __future__ import annotations

_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
MAX_PUBLIC_PRECISION = 5
"""At most 5 characters (a cell of about 4.9 km x 4.9 km) may travel in events."""


def encode(latitude: float, longitude: float, precision: int = MAX_PUBLIC_PRECISION) -> str:
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise ValueError("latitude must be in [-90, 90] and longitude in [-180, 180]")
    if not 1 <= precision <= 12:
        raise ValueError("precision must be 1..12")
    lat_range, lon_range = [-90.0, 90.0], [-180.0, 180.0]
    chars, bits, value, even = [], 0, 0, True
    while len(chars) < precision:
        rng, coord = (lon_range, longitude) if even else (lat_range, latitude)
        mid = (rng[0] + rng[1]) / 2
        value <<= 1
        if coord >= mid:
            value |= 1
            rng[0] = mid
        else:
            rng[1] = mid
        even = not even
        bits += 1
        if bits == 5:
            chars.append(_BASE32[value])
            bits, value = 0, 0
    return "".join(chars)


def coarse(latitude: float, longitude: float) -> str:
    """The public, coarse location of an exact fix."""
    return encode(latitude, longitude, MAX_PUBLIC_PRECISION)
