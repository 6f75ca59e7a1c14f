-- expect-file: duplicate-version
ALTER TABLE users ADD COLUMN mobile text;
