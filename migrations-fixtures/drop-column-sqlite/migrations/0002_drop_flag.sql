-- expect: drop-column
ALTER TABLE notes DROP COLUMN legacy_flag;

-- accept: drop-column
ALTER TABLE notes ADD COLUMN pinned INTEGER;
