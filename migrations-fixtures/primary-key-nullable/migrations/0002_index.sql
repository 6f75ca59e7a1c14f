-- migrate:no-transaction
-- expect: restrict-old-writes
CREATE UNIQUE INDEX CONCURRENTLY events_id ON events (id);
