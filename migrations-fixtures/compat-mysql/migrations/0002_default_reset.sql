-- expect: drop-default-on-not-null-column
ALTER TABLE users ALTER COLUMN role DROP DEFAULT;

ALTER TABLE users ALTER COLUMN role SET DEFAULT 'guest';
