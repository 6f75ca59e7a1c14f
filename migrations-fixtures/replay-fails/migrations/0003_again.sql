ALTER TABLE users ADD COLUMN nickname varchar(100);

-- expect: replay-fails
ALTER TABLE users ADD COLUMN email varchar(255);

-- expect: replay-fails
ALTER TABLE legacy ADD COLUMN note text;

-- expect: replay-fails
CREATE TABLE users (id bigint PRIMARY KEY);

-- accept: replay-fails
CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY);

-- accept: replay-fails
ALTER TABLE unknown_to_the_history ADD COLUMN note text;
