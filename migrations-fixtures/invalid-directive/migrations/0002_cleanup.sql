-- expect: invalid-directive, drop-column
-- migrate:allow drop-column
ALTER TABLE users DROP COLUMN legacy_a;

-- expect: invalid-directive
-- migrate:allow drop-colum: typo in the rule name
ALTER TABLE users ADD COLUMN bio text;

-- accept: invalid-directive
-- migrate:allow drop-column: legacy_b has not been read since v1.4
ALTER TABLE users DROP COLUMN legacy_b;
