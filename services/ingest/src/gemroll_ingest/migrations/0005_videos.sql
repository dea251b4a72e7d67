-- Videos: what the container says (duration, frame rate, codec, audio, rotation) and the key
-- of the poster frame stored beside the clip. An exact location from the container goes in
-- the existing private gps_* columns, as EXIF GPS does. Photos keep these NULL (media_kind
-- 'photo'); erasure clears them with the rest of the row.
ALTER TABLE media
    ADD COLUMN media_kind   text DEFAULT 'photo' CHECK (media_kind IN ('photo', 'video')),
    ADD COLUMN duration_s   double precision CHECK (duration_s > 0),
    ADD COLUMN fps          real,
    ADD COLUMN video_codec  text,
    ADD COLUMN has_audio    boolean,
    ADD COLUMN rotation     smallint,
    ADD COLUMN poster_key   text;

-- A video always carries its facts (a tombstone carries nothing).
ALTER TABLE media ADD CONSTRAINT media_video_facts
    CHECK (media_kind IS DISTINCT FROM 'video'
           OR (duration_s IS NOT NULL AND video_codec IS NOT NULL AND has_audio IS NOT NULL));
