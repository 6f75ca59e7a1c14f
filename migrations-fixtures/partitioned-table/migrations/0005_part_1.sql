-- migrate:no-transaction
-- accept: replay-fails, create-index-not-concurrently
CREATE INDEX CONCURRENTLY events_1_id ON events_1 (id);
