CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);
CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint);
