-- migrate:up
CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy text);

-- migrate:down
-- accept: drop-table
DROP TABLE users;
