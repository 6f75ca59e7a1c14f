-- expect-file: invalid-migration-name
CREATE TABLE sessions (id bigint PRIMARY KEY);
