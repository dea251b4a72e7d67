-- Motion photos: a JPEG whose camera appended a short clip after the picture (Google, Samsung).
-- The photo stays a photo; the clip stays inside the original, found at this offset.
ALTER TABLE media ADD COLUMN motion_offset bigint CHECK (motion_offset > 0);
