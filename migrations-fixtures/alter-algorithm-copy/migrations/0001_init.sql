CREATE TABLE orders (
    id BIGINT PRIMARY KEY,
    note VARCHAR(100)
);
