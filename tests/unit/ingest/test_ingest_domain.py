"""Pure ingest rules: type sniffing, geohash, EXIF interpretation, cursors, records."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from fractions import Fraction

import pytest
from gemroll_common.sniff import sniff_content_type
from gemroll_contracts import ConsentChangedData
from gemroll_ingest.domain import exif, geohash
from gemroll_ingest.domain.consent import ConsentState, allows_uploads
from gemroll_ingest.domain.errors import InvalidCursor
from gemroll_ingest.domain.media import (
    ClientMetadata,
    ImageFacts,
    StagedFile,
    media_uploaded,
    new_media,
    object_key,
)
from gemroll_ingest.domain.paging import Cursor


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + bytes(16)


@pytest.mark.parametrize(("head", "expected"), [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    (b"\xff\xd8\xff\xe1\x00\x10Exif", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
    (ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
    (ftyp(b"heix", b"mif1"), "image/heic"),
    (ftyp(b"mif1", b"heic", b"miaf"), "image/heic"),
    (ftyp(b"mif1", b"miaf"), "image/heif"),
    (ftyp(b"avif", b"mif1", b"miaf"), "image/avif"),
    (ftyp(b"avis", b"msf1", b"avif"), "image/avif"),
    (ftyp(b"mif1", b"avif"), "image/avif"),
    (ftyp(b"isom", b"mp41"), "video/mp4"),  # an MP4 video (since videos are accepted)
    (b"GIF89a", None),
    (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),
    (b"%PDF-1.7", None),
    (b"", None),
    (b"\xff\xd8", None),
])
def test_type_is_sniffed_from_the_bytes(head, expected):
    assert sniff_content_type(head) == expected


def test_geohash_matches_the_reference_and_stays_coarse():
    assert geohash.encode(57.64911, 10.40744, 11) == "u4pruydqqvj"
    assert geohash.coarse(57.64911, 10.40744) == "u4pru"
    assert geohash.coarse(-33.8688, 151.2093) == "r3gx2"
    assert geohash.coarse(90, 180) == "zzzzz" and geohash.coarse(-90, -180) == "00000"
    with pytest.raises(ValueError):
        geohash.encode(91, 0)


@pytest.mark.parametrize(("value", "offset", "expected", "had_offset"), [
    ("2024:05:06 07:08:09", "+02:00", datetime(2024, 5, 6, 5, 8, 9, tzinfo=UTC), True),
    ("2024:05:06 07:08:09", "-0530", datetime(2024, 5, 6, 12, 38, 9, tzinfo=UTC), True),
    ("2024:05:06 07:08:09", None, datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC), False),
    (b"2024:05:06 07:08:09\x00", "junk", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC), False),
])
def test_capture_time(value, offset, expected, had_offset):
    parsed = exif.parse_capture_time(value, offset)
    assert parsed == exif.CaptureTime(expected, had_offset)


@pytest.mark.parametrize("value", ["0000:00:00 00:00:00", "    ", "yesterday", None, 12345])
def test_placeholder_capture_times_are_ignored(value):
    assert exif.parse_capture_time(value) is None


def test_gps_from_degrees_minutes_seconds():
    fix = exif.gps_fix((Fraction(48), Fraction(51), Fraction(2436, 100)), "N",
                       (2.0, 17.0, 40.2), "W", Fraction(35), 0)
    assert fix.latitude == pytest.approx(48.8568, abs=1e-4)
    assert fix.longitude == pytest.approx(-2.2945, abs=1e-4)
    assert fix.altitude_m == 35


@pytest.mark.parametrize("args", [
    ((0, 0, 0), "N", (0, 0, 0), "E"),  # null island: no fix
    ((91, 0, 0), "N", (0, 0, 0), "E"),
    ((10, 0, 0), "X", (10, 0, 0), "E"),
    ((10, 0), "N", "garbage", "E"),
    ((10, 0, Fraction(1, 1)), "N", (10, 0, float("nan")), "E"),
])
def test_unusable_gps_is_dropped(args):
    assert exif.gps_fix(*args) is None


def test_text_and_orientation_are_cleaned():
    assert exif.clean_text(b"Canon\x00\x00 ") == "Canon"
    assert exif.clean_text("  ") is None and exif.clean_text(3) is None
    assert len(exif.clean_text("x" * 500)) == 200
    assert exif.orientation(6) == 6 and exif.orientation(9) is None


def test_cursor_round_trip_and_refusal():
    cursor = Cursor(datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), uuid.uuid4())
    assert Cursor.decode(cursor.encode()) == cursor
    for bad in ("", "x", "eyJ0IjogMX0", cursor.encode()[:-3]):
        with pytest.raises(InvalidCursor):
            Cursor.decode(bad)


def test_consent_rules():
    data = ConsentChangedData(user_key="a" * 32, camera_roll=True, training_opt_out=True,
                              ledger_seq=5, changed_at=datetime.now(UTC))
    state = ConsentState.of(data)
    assert (state.camera_roll, state.training_opt_out, state.ledger_seq) == (True, True, 5)
    assert allows_uploads(state) and not allows_uploads(None)
    assert not allows_uploads(ConsentState("a" * 32, False, False, 6, data.changed_at))


def test_event_carries_the_coarse_location_only():
    user = "c" * 32
    media_id = uuid.uuid4()
    facts = ImageFacts(
        content_type="image/jpeg", width=4, height=3, gps=exif.GpsFix(57.64911, 10.40744, 12.0),
        capture=exif.CaptureTime(datetime(2020, 1, 1, tzinfo=UTC), had_offset=False))
    record = new_media(media_id=media_id, user_key=user,
                       staged=StagedFile("/x", 10, "f" * 64, b""), facts=facts,
                       client=ClientMetadata(captured_at=datetime(2024, 1, 1, tzinfo=UTC)),
                       source="direct")
    assert record.object_key == object_key(user, media_id) == f"users/{user}/media/{media_id}"
    assert record.captured_at == datetime(2024, 1, 1, tzinfo=UTC)  # the client's time wins
    event = media_uploaded(record, "bucket")
    assert event.data.coarse_location == "u4pru"
    raw = event.to_json()
    assert b"57.6" not in raw and b"10.4" not in raw


@pytest.mark.parametrize("text", ["a\x00b", "\udacc", "ok\ud83d"])
def test_client_metadata_refuses_text_that_cannot_be_stored(text):
    with pytest.raises(ValueError):
        ClientMetadata(device=text)
    with pytest.raises(ValueError):
        ClientMetadata.model_validate_json(json.dumps({"album": text}))
    assert ClientMetadata(device="Pixel 8 \u00e9\U0001f4f7").device == "Pixel 8 é📷"
