"""Offline geography: geohash cells, distances, a small table of big cities and local time.

Nothing is looked up online. A coarse geohash (at most 5 characters, about 5 km) is named
after a big city only when the city lies inside or right next to the cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pygeohash

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Cell:
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    @property
    def center(self) -> tuple[float, float]:
        return (self.lat_min + self.lat_max) / 2, (self.lon_min + self.lon_max) / 2

    @property
    def half_diagonal_km(self) -> float:
        return haversine_km((self.lat_min, self.lon_min), (self.lat_max, self.lon_max)) / 2


@lru_cache(maxsize=4096)
def decode(geohash: str) -> Cell:
    """The cell a geohash stands for; raises ValueError on characters outside its alphabet."""
    if not geohash or not pygeohash.is_valid_geohash(geohash.lower()):
        raise ValueError(f"invalid geohash {geohash!r}")
    exact = pygeohash.decode_exactly(geohash.lower())
    return Cell(exact.latitude - exact.latitude_error, exact.latitude + exact.latitude_error,
                exact.longitude - exact.longitude_error, exact.longitude + exact.longitude_error)


def encode(lat: float, lon: float, precision: int = 5) -> str:
    """The geohash of a point (tests and tools use it; the suggester only decodes)."""
    return pygeohash.encode(lat, lon, precision=precision)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = map(math.radians, b)
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def min_distance_km(a: str, b: str) -> float:
    """A lower bound of the distance between any point of cell `a` and any point of cell `b`."""
    if a.startswith(b) or b.startswith(a):
        return 0.0
    ca, cb = decode(a), decode(b)
    centre = haversine_km(ca.center, cb.center)
    return max(0.0, centre - ca.half_diagonal_km - cb.half_diagonal_km)


@dataclass(frozen=True)
class City:
    name: str
    lat: float
    lon: float
    tz: str


CITIES: tuple[City, ...] = (
    City("Amsterdam", 52.37, 4.90, "Europe/Amsterdam"),
    City("Athens", 37.98, 23.73, "Europe/Athens"),
    City("Barcelona", 41.39, 2.17, "Europe/Madrid"),
    City("Berlin", 52.52, 13.40, "Europe/Berlin"),
    City("Brussels", 50.85, 4.35, "Europe/Brussels"),
    City("Budapest", 47.50, 19.04, "Europe/Budapest"),
    City("Copenhagen", 55.68, 12.57, "Europe/Copenhagen"),
    City("Dublin", 53.35, -6.26, "Europe/Dublin"),
    City("Edinburgh", 55.95, -3.19, "Europe/London"),
    City("Frankfurt", 50.11, 8.68, "Europe/Berlin"),
    City("Hamburg", 53.55, 9.99, "Europe/Berlin"),
    City("Helsinki", 60.17, 24.94, "Europe/Helsinki"),
    City("Istanbul", 41.01, 28.98, "Europe/Istanbul"),
    City("Kyiv", 50.45, 30.52, "Europe/Kyiv"),
    City("Lisbon", 38.72, -9.14, "Europe/Lisbon"),
    City("London", 51.51, -0.13, "Europe/London"),
    City("Lyon", 45.76, 4.84, "Europe/Paris"),
    City("Madrid", 40.42, -3.70, "Europe/Madrid"),
    City("Manchester", 53.48, -2.24, "Europe/London"),
    City("Marseille", 43.30, 5.37, "Europe/Paris"),
    City("Milan", 45.46, 9.19, "Europe/Rome"),
    City("Moscow", 55.76, 37.62, "Europe/Moscow"),
    City("Munich", 48.14, 11.58, "Europe/Berlin"),
    City("Naples", 40.85, 14.27, "Europe/Rome"),
    City("Oslo", 59.91, 10.75, "Europe/Oslo"),
    City("Paris", 48.86, 2.35, "Europe/Paris"),
    City("Porto", 41.15, -8.61, "Europe/Lisbon"),
    City("Prague", 50.08, 14.44, "Europe/Prague"),
    City("Reykjavik", 64.15, -21.94, "Atlantic/Reykjavik"),
    City("Rome", 41.90, 12.50, "Europe/Rome"),
    City("Seville", 37.39, -5.98, "Europe/Madrid"),
    City("Stockholm", 59.33, 18.07, "Europe/Stockholm"),
    City("Vienna", 48.21, 16.37, "Europe/Vienna"),
    City("Warsaw", 52.23, 21.01, "Europe/Warsaw"),
    City("Zurich", 47.38, 8.54, "Europe/Zurich"),
    City("Cairo", 30.04, 31.24, "Africa/Cairo"),
    City("Cape Town", -33.92, 18.42, "Africa/Johannesburg"),
    City("Casablanca", 33.57, -7.59, "Africa/Casablanca"),
    City("Johannesburg", -26.20, 28.05, "Africa/Johannesburg"),
    City("Lagos", 6.52, 3.38, "Africa/Lagos"),
    City("Marrakesh", 31.63, -7.99, "Africa/Casablanca"),
    City("Nairobi", -1.29, 36.82, "Africa/Nairobi"),
    City("Dubai", 25.20, 55.27, "Asia/Dubai"),
    City("Tel Aviv", 32.09, 34.78, "Asia/Jerusalem"),
    City("Bangkok", 13.76, 100.50, "Asia/Bangkok"),
    City("Beijing", 39.90, 116.41, "Asia/Shanghai"),
    City("Delhi", 28.61, 77.21, "Asia/Kolkata"),
    City("Hanoi", 21.03, 105.85, "Asia/Bangkok"),
    City("Ho Chi Minh City", 10.82, 106.63, "Asia/Ho_Chi_Minh"),
    City("Hong Kong", 22.32, 114.17, "Asia/Hong_Kong"),
    City("Jakarta", -6.21, 106.85, "Asia/Jakarta"),
    City("Kuala Lumpur", 3.14, 101.69, "Asia/Kuala_Lumpur"),
    City("Kyoto", 35.01, 135.77, "Asia/Tokyo"),
    City("Manila", 14.60, 120.98, "Asia/Manila"),
    City("Mumbai", 19.08, 72.88, "Asia/Kolkata"),
    City("Osaka", 34.69, 135.50, "Asia/Tokyo"),
    City("Seoul", 37.57, 126.98, "Asia/Seoul"),
    City("Shanghai", 31.23, 121.47, "Asia/Shanghai"),
    City("Singapore", 1.35, 103.82, "Asia/Singapore"),
    City("Taipei", 25.03, 121.57, "Asia/Taipei"),
    City("Tokyo", 35.68, 139.69, "Asia/Tokyo"),
    City("Auckland", -36.85, 174.76, "Pacific/Auckland"),
    City("Brisbane", -27.47, 153.03, "Australia/Brisbane"),
    City("Melbourne", -37.81, 144.96, "Australia/Melbourne"),
    City("Perth", -31.95, 115.86, "Australia/Perth"),
    City("Sydney", -33.87, 151.21, "Australia/Sydney"),
    City("Honolulu", 21.31, -157.86, "Pacific/Honolulu"),
    City("Atlanta", 33.75, -84.39, "America/New_York"),
    City("Austin", 30.27, -97.74, "America/Chicago"),
    City("Boston", 42.36, -71.06, "America/New_York"),
    City("Chicago", 41.88, -87.63, "America/Chicago"),
    City("Dallas", 32.78, -96.80, "America/Chicago"),
    City("Denver", 39.74, -104.99, "America/Denver"),
    City("Las Vegas", 36.17, -115.14, "America/Los_Angeles"),
    City("Los Angeles", 34.05, -118.24, "America/Los_Angeles"),
    City("Miami", 25.76, -80.19, "America/New_York"),
    City("Montreal", 45.50, -73.57, "America/Toronto"),
    City("New York", 40.71, -74.01, "America/New_York"),
    City("San Francisco", 37.77, -122.42, "America/Los_Angeles"),
    City("Seattle", 47.61, -122.33, "America/Los_Angeles"),
    City("Toronto", 43.65, -79.38, "America/Toronto"),
    City("Vancouver", 49.28, -123.12, "America/Vancouver"),
    City("Washington", 38.91, -77.04, "America/New_York"),
    City("Mexico City", 19.43, -99.13, "America/Mexico_City"),
    City("Bogotá", 4.71, -74.07, "America/Bogota"),
    City("Buenos Aires", -34.60, -58.38, "America/Argentina/Buenos_Aires"),
    City("Lima", -12.05, -77.04, "America/Lima"),
    City("Rio de Janeiro", -22.91, -43.17, "America/Sao_Paulo"),
    City("Santiago", -33.45, -70.67, "America/Santiago"),
    City("São Paulo", -23.55, -46.63, "America/Sao_Paulo"),
)

NAME_RADIUS_KM = 30.0
"""A cell is named after a city at most this far beyond the cell's edge."""
TZ_RADIUS_KM = 400.0
"""The nearest city within this distance lends its time zone; else solar time is used."""


def _nearest_city(lat: float, lon: float) -> tuple[City, float]:
    best = min(CITIES, key=lambda c: haversine_km((lat, lon), (c.lat, c.lon)))
    return best, haversine_km((lat, lon), (best.lat, best.lon))


@lru_cache(maxsize=4096)
def place_name(geohash: str) -> str | None:
    """A big city's name for a coarse geohash of at least 4 characters, else None."""
    if len(geohash) < 4:
        return None
    cell = decode(geohash)
    city, distance = _nearest_city(*cell.center)
    return city.name if distance <= cell.half_diagonal_km + NAME_RADIUS_KM else None


@lru_cache(maxsize=4096)
def local_zone(geohash: str | None) -> tzinfo:
    """The time zone photos taken in the cell were most likely taken in.

    The nearest big city's zone when one is close, else the solar offset of the cell's
    longitude (15° per hour), else UTC when the place is unknown.
    """
    if not geohash:
        return UTC
    lat, lon = decode(geohash).center
    city, distance = _nearest_city(lat, lon)
    if distance <= TZ_RADIUS_KM:
        try:
            return ZoneInfo(city.tz)
        except ZoneInfoNotFoundError:
            pass  # no tz database on this host: fall back to solar time
    return timezone(timedelta(hours=round(lon / 15)))


def local_time(moment: datetime, geohash: str | None) -> datetime:
    return moment.astimezone(local_zone(geohash))
