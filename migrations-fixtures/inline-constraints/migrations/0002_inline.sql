-- expect: add-check-without-not-valid
ALTER TABLE users ADD COLUMN age int CHECK (age >= 0);

-- expect: add-unique-without-index
ALTER TABLE users ADD COLUMN handle text UNIQUE;

-- expect: add-foreign-key-without-not-valid, restrict-old-writes
ALTER TABLE users ADD COLUMN account_id bigint DEFAULT 1 REFERENCES accounts (id);

-- accept: add-foreign-key-without-not-valid, restrict-old-writes
ALTER TABLE users ADD COLUMN team_id bigint REFERENCES accounts (id);
