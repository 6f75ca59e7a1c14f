-- expect-file: down-migration-ignored
DROP TABLE users;
