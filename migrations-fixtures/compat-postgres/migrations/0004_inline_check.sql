-- expect: add-not-null-column-without-default, add-check-without-not-valid
ALTER TABLE users ADD COLUMN x text CHECK (x IS NOT NULL);
