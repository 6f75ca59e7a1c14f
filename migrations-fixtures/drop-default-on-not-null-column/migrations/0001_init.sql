CREATE TABLE users (
    id bigint PRIMARY KEY,
    role text NOT NULL DEFAULT 'member',
    theme text DEFAULT 'light'
);
