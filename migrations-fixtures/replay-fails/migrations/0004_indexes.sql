CREATE INDEX users_email ON users (email);

-- expect: replay-fails
CREATE INDEX users_email ON users (nickname);

-- accept: replay-fails
-- MySQL names indexes per table: the same name on another table is another index.
CREATE TABLE posts (id bigint PRIMARY KEY, email varchar(255));
CREATE INDEX users_email ON posts (email);
