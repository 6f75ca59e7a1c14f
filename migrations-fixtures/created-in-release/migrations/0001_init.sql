CREATE TABLE users (id bigint PRIMARY KEY, email text);
CREATE MATERIALIZED VIEW user_emails AS SELECT id, email FROM users;
