"""Pure interpretation of raw EXIF values (the Pillow adapter reads them; these rules judge)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_TEXT_LIMIT = 200


@dataclass(frozen=True)
class GpsFix:
    """An exact position. Private: stored in the ingest's own column, never published."""

    latitude: float
    longitude: float
    altitude_m: float | None = None


@dataclass(frozen=True)
class CaptureTime:
    at: datetime
    """Timezone-aware (UTC)."""
    had_offset: bool
    """False when EXIF had no offset and the local time was taken as UTC."""


def parse_capture_time(value: object, offset: object = None) -> CaptureTime | None:
    """EXIF `YYYY:MM:DD HH:MM:SS` (+ optional `OffsetTime*` `+HH:MM`) to an aware instant."""
    text = clean_text(value)
    if text is None:
        return None
    try:
        local = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if local.year < 1826:  # before the first photograph: a placeholder like 0000:00:00 or junk
        return None
    tz_text = clean_text(offset)
    match = _OFFSET.match(tz_text) if tz_text else None
    if match:
        sign = -1 if match.group(1) == "-" else 1
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        if delta <= timedelta(hours=14):
            tz = timezone(sign * delta)
            return CaptureTime(local.replace(tzinfo=tz).astimezone(UTC), had_offset=True)
    return CaptureTime(local.replace(tzinfo=UTC), had_offset=False)


def clean_text(value: object) -> str | None:
    """EXIF ASCII: strip NULs and blanks; None when nothing is left."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()
    text = "".join(ch for ch in text if ch.isprintable())
    return text[:_TEXT_LIMIT] or None


def orientation(value: object) -> int | None:
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _to_float(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]  # IFDRational, int, float, Fraction
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def degrees(dms: object, ref: object, positive: str, negative: str) -> float | None:
    """(degrees, minutes, seconds) with an N/S or E/W reference to signed decimal degrees."""
    if not isinstance(dms, Sequence) or isinstance(dms, str | bytes) or not 1 <= len(dms) <= 3:
        return None
    parts = [_to_float(p) for p in dms]
    if any(p is None or p < 0 for p in parts):
        return None
    d, m, s = ([*parts, 0.0, 0.0])[:3]
    value = d + m / 60 + s / 3600  # type: ignore[operator]
    ref_text = (clean_text(ref) or positive).upper()
    if ref_text == negative:
        value = -value
    elif ref_text != positive:
        return None
    return value


def gps_fix(
    lat: object, lat_ref: object, lon: object, lon_ref: object,
    altitude: object = None, altitude_ref: object = None,
) -> GpsFix | None:
    latitude = degrees(lat, lat_ref, "N", "S")
    longitude = degrees(lon, lon_ref, "E", "W")
    if latitude is None or longitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    if latitude == 0 and longitude == 0:  # "null island": devices write it when they had no fix
        return None
    alt = _to_float(altitude)
    if alt is not None and altitude_ref in (1, b"\x01"):
        alt = -alt
    return GpsFix(latitude=latitude, longitude=longitude, altitude_m=alt)
