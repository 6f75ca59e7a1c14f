-- no-transaction
-- accept: concurrently-in-transaction, mixed-non-transactional
CREATE INDEX CONCURRENTLY users_email ON users (email);
