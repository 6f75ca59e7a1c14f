-- accept: add-not-null-column-without-default
ALTER TABLE users ADD COLUMN z text;
ALTER TABLE users ALTER COLUMN z SET DEFAULT 'z';
ALTER TABLE users ALTER COLUMN z SET NOT NULL;
