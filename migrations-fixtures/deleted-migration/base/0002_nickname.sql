-- expect-file: deleted-migration
ALTER TABLE users ADD COLUMN nickname text;
