CREATE TABLE users (
    id bigint PRIMARY KEY,
    name varchar(100),
    role varchar(20) NOT NULL DEFAULT 'member',
    nickname varchar(100)
);
