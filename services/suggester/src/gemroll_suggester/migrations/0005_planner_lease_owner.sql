-- The planner that holds an event's lease: a lease is short and renewed while its owner plans,
-- so a planner that died is replaced within seconds, and one whose lease was taken over
-- cannot commit its (stale) plan.
ALTER TABLE events ADD COLUMN lease_owner uuid;
