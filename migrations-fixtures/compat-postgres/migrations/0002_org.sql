ALTER TABLE users ADD COLUMN org_id bigint;

-- expect: unbatched-backfill
UPDATE users SET org_id = 1;

-- expect: add-not-null-column-without-default
ALTER TABLE users ALTER COLUMN org_id SET NOT NULL;
