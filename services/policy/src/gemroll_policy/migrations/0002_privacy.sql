-- Consent periods: the start of the current uninterrupted opted-in period (NULL while not).
-- Evidence given before it counts for nothing (an opt-out came after it).
ALTER TABLE consent_state ADD COLUMN allowed_since timestamptz;
UPDATE consent_state SET allowed_since = changed_at WHERE camera_roll AND NOT training_opt_out;

-- Admissions whose training copy failed transiently: held and tried again (nothing else in a
-- batch waits for them).
CREATE TABLE copy_retries (
    candidate_id     uuid PRIMARY KEY REFERENCES candidates ON DELETE CASCADE,
    attempts         integer NOT NULL DEFAULT 1,
    next_attempt_at  timestamptz NOT NULL,
    last_error       text
);
CREATE INDEX copy_retries_due ON copy_retries (next_attempt_at);

-- Training copies written before their unit of work commits: an admission deletes its row;
-- a row whose candidate ends rejected or retracted names an orphaned copy to erase.
CREATE TABLE copy_intents (
    candidate_id  uuid PRIMARY KEY,
    training_key  text NOT NULL,
    written_at    timestamptz NOT NULL
);
CREATE INDEX copy_intents_by_age ON copy_intents (written_at);
