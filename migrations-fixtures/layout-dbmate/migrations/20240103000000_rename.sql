-- migrate:up
-- expect: rename-column
ALTER TABLE users RENAME COLUMN legacy TO old;

-- migrate:down
-- accept: rename-column
ALTER TABLE users RENAME COLUMN old TO legacy;
