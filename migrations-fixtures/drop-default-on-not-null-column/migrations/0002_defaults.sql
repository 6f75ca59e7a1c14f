-- expect: drop-default-on-not-null-column
ALTER TABLE users ALTER COLUMN role DROP DEFAULT;

-- accept: drop-default-on-not-null-column
ALTER TABLE users ALTER COLUMN theme DROP DEFAULT;
