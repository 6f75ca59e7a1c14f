-- expect-file: migrate-sum-mismatch
ALTER TABLE users ADD COLUMN bio text;
