-- Videos join events like photos: what kind of media, the poster frame to render from, and
-- the best moment the classifier found (seconds from the start).
ALTER TABLE media ADD COLUMN media_kind text NOT NULL DEFAULT 'photo';
ALTER TABLE media ADD COLUMN poster_key text;
ALTER TABLE media ADD COLUMN moment_start_s double precision;
ALTER TABLE media ADD COLUMN moment_end_s double precision;
