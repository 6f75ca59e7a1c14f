-- expect: restrict-old-writes
ALTER TABLE users ADD CONSTRAINT users_age_ok CHECK (age >= 0) NOT VALID;

-- expect: restrict-old-writes
ALTER TABLE users ADD CONSTRAINT users_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;

-- accept: restrict-old-writes
ALTER TABLE users ADD COLUMN code text;
ALTER TABLE users ADD CONSTRAINT users_code_positive CHECK (length(code) > 0) NOT VALID;
