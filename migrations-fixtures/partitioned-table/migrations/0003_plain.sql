-- expect: create-index-not-concurrently
CREATE INDEX events_at ON events (at);
