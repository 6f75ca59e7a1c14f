CREATE TABLE users (id bigint PRIMARY KEY, email varchar(255));
CREATE TABLE legacy (id bigint PRIMARY KEY);
