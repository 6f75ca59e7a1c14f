-- expect: add-not-null-column-without-default
-- A NULL makes the whole AND false: the old app's inserts, which leave w out, fail.
ALTER TABLE users ADD COLUMN w text;
ALTER TABLE users ADD CONSTRAINT w_ok CHECK (length(w) > 0 AND w IS NOT NULL) NOT VALID;
