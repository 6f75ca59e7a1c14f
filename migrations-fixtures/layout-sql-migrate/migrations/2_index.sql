-- +migrate Up notransaction
-- accept: concurrently-in-transaction
CREATE INDEX CONCURRENTLY users_email ON users (email);
