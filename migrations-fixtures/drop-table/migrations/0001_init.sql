CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text NOT NULL,
    name text
);

CREATE TABLE sessions (
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id)
);
