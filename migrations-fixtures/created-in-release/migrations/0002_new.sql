CREATE MATERIALIZED VIEW user_ids AS SELECT id FROM users;
-- accept: create-index-not-concurrently
CREATE UNIQUE INDEX user_ids_id ON user_ids (id);

CREATE TEMP TABLE scratch AS SELECT id FROM users;
-- accept: create-index-not-concurrently
CREATE INDEX scratch_id ON scratch (id);
-- accept: drop-table
DROP TABLE scratch;

-- expect: create-index-not-concurrently
CREATE UNIQUE INDEX user_emails_id ON user_emails (id);
