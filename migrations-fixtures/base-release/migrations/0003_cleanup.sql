-- accept: drop-column
ALTER TABLE users DROP COLUMN scratch;

-- expect: drop-column
ALTER TABLE users DROP COLUMN legacy;
