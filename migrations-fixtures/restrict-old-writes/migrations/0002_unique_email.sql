-- migrate:no-transaction
-- expect: restrict-old-writes
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
