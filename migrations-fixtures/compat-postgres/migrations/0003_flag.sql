ALTER TABLE users ADD COLUMN flag int NOT NULL DEFAULT 10;

-- expect: add-not-null-column-without-default
ALTER TABLE users ALTER COLUMN flag DROP DEFAULT;
