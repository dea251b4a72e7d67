-- "On this day" memories: a highlight's occasion, and the events of a calendar day found by an
-- index (the memories pass looks them up once a day, never scanning every roll).
ALTER TABLE suggestions ADD COLUMN occasion text;
CREATE INDEX events_calendar_day ON events (
    (EXTRACT(MONTH FROM start_at AT TIME ZONE 'UTC')),
    (EXTRACT(DAY FROM start_at AT TIME ZONE 'UTC')));
