-- Public links to what a user shared (`domain.sharing`). Whether one opens is decided each time
-- it is opened; rows go with their suggestion, and with the account on erasure.
CREATE TABLE share_links (
    token         text PRIMARY KEY,
    suggestion_id uuid NOT NULL REFERENCES suggestions (suggestion_id) ON DELETE CASCADE,
    user_key      text NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);
CREATE INDEX share_links_suggestion ON share_links (suggestion_id) WHERE revoked_at IS NULL;
CREATE INDEX share_links_user ON share_links (user_key, created_at DESC);
