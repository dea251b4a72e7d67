"""SQL for media rows: the columns read, a record from a row, a reservation's insert, and
what a tombstone clears."""

from __future__ import annotations

import asyncpg

from ...domain.exif import GpsFix
from ...domain.media import MediaRecord
from ...domain.video import VideoInfo
from .verdicts import verdict_of_row

_VIDEO_COLUMNS = ("media_kind", "duration_s", "fps", "video_codec", "has_audio", "rotation",
                  "poster_key", "motion_offset")
COLUMNS = (
    "media_id, user_key, state, source, object_key, content_type, size_bytes, sha256, width,"
    " height, captured_at, camera_make, camera_model, orientation, coarse_location, device,"
    " album, gps_latitude, gps_longitude, gps_altitude_m, created_at, announced_at,"
    " classified_at, category, is_gem, gem_score, reasons, verdict_at, "
    + ", ".join(_VIDEO_COLUMNS)
)
_INSERTED = (
    "media_id", "user_key", "source", "object_key", "content_type", "size_bytes", "sha256",
    "width", "height", "captured_at", "camera_make", "camera_model", "orientation",
    "coarse_location", "device", "album", "gps_latitude", "gps_longitude", "gps_altitude_m",
    *_VIDEO_COLUMNS,
)
INSERT = (
    f"INSERT INTO media (state, lease_until, {', '.join(_INSERTED)}) VALUES ('storing',"
    " clock_timestamp() + make_interval(secs => $1), "
    + ", ".join(f"${i + 2}" for i in range(len(_INSERTED))) + ")"
)
CLEARED = (
    "source", "object_key", "content_type", "size_bytes", "sha256", "width", "height",
    "captured_at", "camera_make", "camera_model", "orientation", "coarse_location", "device",
    "album", "gps_latitude", "gps_longitude", "gps_altitude_m", "accepted_at", "announced_at",
    "classified_at", "deleted_at", "lease_until", "category", "is_gem", "gem_score", "reasons",
    "verdict_at", *_VIDEO_COLUMNS,
)
"""Every content column: NULL in a tombstone."""


def insert_args(record: MediaRecord, lease_s: float) -> list[object]:
    """The parameters of INSERT for a reservation of `record`."""
    gps, v = record.gps, record.video
    return [
        float(lease_s), record.media_id, record.user_key, record.source, record.object_key,
        record.content_type, record.size_bytes, record.sha256, record.width, record.height,
        record.captured_at, record.camera_make, record.camera_model, record.orientation,
        record.coarse_location, record.device, record.album,
        gps.latitude if gps else None, gps.longitude if gps else None,
        gps.altitude_m if gps else None, record.media_kind,
        v.duration_s if v else None, v.fps if v else None, v.video_codec if v else None,
        v.has_audio if v else None, v.rotation if v else None, record.poster_key,
        record.motion_offset,
    ]


def record_of(row: asyncpg.Record) -> MediaRecord:
    gps = None
    if row["gps_latitude"] is not None and row["gps_longitude"] is not None:
        gps = GpsFix(row["gps_latitude"], row["gps_longitude"], row["gps_altitude_m"])
    return MediaRecord(
        media_id=row["media_id"], user_key=row["user_key"], object_key=row["object_key"],
        content_type=row["content_type"], size_bytes=row["size_bytes"], sha256=row["sha256"],
        width=row["width"], height=row["height"], captured_at=row["captured_at"],
        camera_make=row["camera_make"], camera_model=row["camera_model"],
        orientation=row["orientation"], coarse_location=row["coarse_location"],
        device=row["device"], album=row["album"], gps=gps, source=row["source"],
        state=row["state"], created_at=row["created_at"], announced_at=row["announced_at"],
        classified_at=row["classified_at"], verdict=verdict_of_row(row),
        video=_video_of(row), poster_key=row["poster_key"], motion_offset=row["motion_offset"],
    )


def _video_of(row: asyncpg.Record) -> VideoInfo | None:
    if row["media_kind"] != "video" or row["duration_s"] is None:
        return None
    return VideoInfo(duration_s=row["duration_s"], fps=row["fps"],
                     video_codec=row["video_codec"], has_audio=row["has_audio"],
                     rotation=row["rotation"] or 0)
