-- accept: concurrently-in-transaction
CREATE INDEX CONCURRENTLY users_name ON users (name);
