CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text NOT NULL,
    name text
);

CREATE MATERIALIZED VIEW user_counts AS SELECT count(*) AS total FROM users;
