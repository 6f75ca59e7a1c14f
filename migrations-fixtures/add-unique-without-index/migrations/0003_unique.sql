-- expect: restrict-old-writes
-- expect: add-unique-without-index
ALTER TABLE users ADD CONSTRAINT users_name_key UNIQUE (name);

-- accept: add-unique-without-index
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
