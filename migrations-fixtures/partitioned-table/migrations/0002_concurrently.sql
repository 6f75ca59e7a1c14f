-- migrate:no-transaction
-- expect: replay-fails
CREATE INDEX CONCURRENTLY events_v ON events (v);
