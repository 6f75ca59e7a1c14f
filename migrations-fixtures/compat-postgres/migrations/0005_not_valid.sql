ALTER TABLE users ADD COLUMN y text;

-- expect: add-not-null-column-without-default
ALTER TABLE users ADD CONSTRAINT users_y_nn CHECK (y IS NOT NULL) NOT VALID;
