-- +goose NO TRANSACTION
-- +goose Up
-- accept: concurrently-in-transaction
CREATE INDEX CONCURRENTLY users_email ON users (email);

-- +goose Down
-- accept: drop-index-not-concurrently
DROP INDEX users_email;
