"""Pure ingest rules: type sniffing, EXIF interpretation, coarse location, records, events.

No I/O here: nothing imports faststream, asyncpg, minio, Pillow or fastapi.
"""
