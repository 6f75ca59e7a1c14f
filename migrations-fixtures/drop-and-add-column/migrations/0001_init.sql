CREATE TABLE users (id bigint PRIMARY KEY, nickname text, bio text);
