-- expect-file: edited-migration
ALTER TABLE users ADD COLUMN nickname varchar(50);
