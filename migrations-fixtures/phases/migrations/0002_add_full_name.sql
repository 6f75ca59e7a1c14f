ALTER TABLE users ADD COLUMN full_name text;
ALTER TABLE users ADD COLUMN org_id bigint;
