-- migrate:allow drop-column: legacy has not been read since v1.4 (ticket OPS-112)
ALTER TABLE users DROP COLUMN legacy;

-- expect: restrict-old-writes
-- migrate:allow create-index-not-concurrently, add-check-without-not-valid: users has 40 rows
-- (an internal admin table)
ALTER TABLE users ADD CONSTRAINT users_email_shape CHECK (email LIKE '%@%');
