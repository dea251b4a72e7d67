"""Hostile input, made deterministically at test time (nothing checked in).

* `corpus()`: at least 200 bad files for the upload API: truncated JPEG/PNG/HEIC/WebP,
  pixel floods and decompression bombs, polyglots, huge or malformed EXIF, zero bytes,
  random bytes, lying names and content types, giant dimensions, bit flips.
* `bad_records()`: malformed Kafka records for every consumed topic: not JSON, wrong
  event type, wrong field types, huge values, unknown fields, naive datetimes, tombstones.

    python -m gemroll_testkit.hostile write DIR   # the corpus as files, with an index
"""

from .corpus import HostileFile, corpus
from .events import BadRecord, bad_records

__all__ = ["BadRecord", "HostileFile", "bad_records", "corpus"]
