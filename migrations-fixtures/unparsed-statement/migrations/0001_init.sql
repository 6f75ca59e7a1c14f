CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text NOT NULL,
    name text
);

-- expect: unparsed-statement
ALTER TABLE users FROBNICATE COLUMN email;

-- accept: unparsed-statement
ALTER TABLE users ADD COLUMN nickname text;
