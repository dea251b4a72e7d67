-- The copy queue: admissions wait here for their training copy, made outside the decision's
-- transaction. trace_id is the trace of the event that admitted the candidate, so the
-- admission published once the copy is made continues it.
ALTER TABLE copy_retries ADD COLUMN trace_id text;
ALTER TABLE copy_retries ALTER COLUMN attempts SET DEFAULT 0;
