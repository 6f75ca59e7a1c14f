CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text NOT NULL,
    name text
);

CREATE TABLE orders (
    id bigint PRIMARY KEY,
    user_id bigint,
    total numeric(10, 2)
);
