CREATE TABLE users (
    id bigint PRIMARY KEY,
    name text,
    role text NOT NULL DEFAULT 'member',
    nickname text
);
