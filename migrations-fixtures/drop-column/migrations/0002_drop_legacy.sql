-- expect: drop-column
ALTER TABLE users DROP COLUMN legacy_name;

ALTER TABLE users ADD COLUMN scratch text;

-- accept: drop-column
ALTER TABLE users DROP COLUMN scratch;
