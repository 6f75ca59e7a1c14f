-- expect: add-not-null-column-without-default
ALTER TABLE users ADD COLUMN x text CHECK (x IS NOT NULL);
