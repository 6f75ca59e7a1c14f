CREATE DOMAIN email AS text;
CREATE TABLE users (id bigint PRIMARY KEY, contact email);
CREATE TABLE invites (id bigint PRIMARY KEY, sent_to email);
