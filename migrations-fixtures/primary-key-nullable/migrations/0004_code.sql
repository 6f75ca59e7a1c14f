-- migrate:no-transaction
-- expect: restrict-old-writes
CREATE UNIQUE INDEX CONCURRENTLY events_code ON events (code);
