-- accept-file: duplicate-version
ALTER TABLE users ADD COLUMN phone text;
