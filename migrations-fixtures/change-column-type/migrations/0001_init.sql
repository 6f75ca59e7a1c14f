CREATE TABLE orders (
    id bigint PRIMARY KEY,
    quantity integer NOT NULL,
    note varchar(200),
    total numeric(10, 2)
);
