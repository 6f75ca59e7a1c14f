CREATE SCHEMA archive;

CREATE TABLE invoices (id bigint PRIMARY KEY);
