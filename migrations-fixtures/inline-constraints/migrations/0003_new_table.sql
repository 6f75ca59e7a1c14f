CREATE TABLE teams (id bigint PRIMARY KEY);

-- accept: add-check-without-not-valid, add-unique-without-index
ALTER TABLE teams ADD COLUMN name text UNIQUE CHECK (name <> '');
