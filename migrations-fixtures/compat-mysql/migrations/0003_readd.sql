-- expect: drop-column
ALTER TABLE users DROP COLUMN nickname;

-- accept: drop-and-add-column
ALTER TABLE users ADD COLUMN nickname varchar(100);
