-- expect: set-not-null
ALTER TABLE users ALTER COLUMN name SET NOT NULL;
