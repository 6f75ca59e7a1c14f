-- migrate:up transaction:false
-- accept: concurrently-in-transaction
CREATE INDEX CONCURRENTLY users_email ON users (email);

-- migrate:down
-- accept: drop-index-not-concurrently
DROP INDEX users_email;
