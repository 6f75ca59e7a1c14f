-- +migrate Up
CREATE TABLE users (id bigint PRIMARY KEY, email text);

-- +migrate StatementBegin
CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1; ';
-- +migrate StatementEnd

-- +migrate Down
-- accept: drop-table
DROP TABLE users;
