-- expect-file: migrate-sum-mismatch
ALTER TABLE users ADD COLUMN nickname varchar(50);
