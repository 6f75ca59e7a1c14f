-- accept: drop-column
ALTER TABLE users DROP COLUMN nickname;
-- expect: drop-and-add-column
ALTER TABLE users ADD COLUMN nickname text;

ALTER TABLE users ADD COLUMN scratch text;
ALTER TABLE users DROP COLUMN scratch;
-- accept: drop-and-add-column
ALTER TABLE users ADD COLUMN scratch text;
