-- +migrate Up
-- expect: set-not-null
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- +migrate Down
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
