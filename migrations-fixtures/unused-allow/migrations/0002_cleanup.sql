-- expect: unused-allow
-- migrate:allow drop-column: nothing is dropped here
ALTER TABLE users ADD COLUMN bio text;

-- accept: unused-allow
-- migrate:allow drop-column: legacy has not been read since v1.4
ALTER TABLE users DROP COLUMN legacy;
