-- accept: create-index-not-concurrently
CREATE INDEX events_id ON ONLY events (id);
