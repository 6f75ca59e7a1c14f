-- accept: set-not-null
ALTER TABLE users ALTER COLUMN phone SET NOT NULL;
