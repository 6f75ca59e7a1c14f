CREATE TABLE users_new (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL
);

INSERT INTO users_new (id, email) SELECT id, email FROM users WHERE email IS NOT NULL;

-- expect: table-rebuild
DROP TABLE users;

ALTER TABLE users_new RENAME TO users;

CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);

CREATE TABLE tags_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL);

-- accept: table-rebuild
DROP TABLE tags;

ALTER TABLE tags_new RENAME TO tags;
