-- expect-file: invalid-migration-name
CREATE OR REPLACE VIEW emails AS SELECT email FROM users;
