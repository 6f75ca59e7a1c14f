CREATE TABLE orders (
    id BIGINT PRIMARY KEY,
    code VARCHAR(20),
    note VARCHAR(50),
    status ENUM('new', 'paid')
);
