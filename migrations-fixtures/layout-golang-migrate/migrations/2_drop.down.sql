-- expect-file: down-migration-ignored
ALTER TABLE users ADD COLUMN legacy TEXT;
