-- +goose Up
-- expect: drop-column
ALTER TABLE users DROP COLUMN legacy;

-- +goose Down
ALTER TABLE users ADD COLUMN legacy text;
