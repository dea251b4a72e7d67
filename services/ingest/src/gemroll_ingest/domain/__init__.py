"""Pure ingest rules: type sniffing, EXIF interpretation, coarse location, records, events,
who may upload, how much an erasure takes, presigned-upload states, paging.

No I/O here: nothing imports faststream, asyncpg, minio, Pillow or fastapi.
"""
