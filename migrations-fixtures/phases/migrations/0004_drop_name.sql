-- migrate:contract
-- accept: contract-touches-new-object
ALTER TABLE users DROP COLUMN name;
-- expect: contract-touches-new-object
ALTER TABLE users RENAME COLUMN org_id TO organisation_id;
-- accept: contract-mixes-expand
-- expect: set-not-null
ALTER TABLE users ALTER COLUMN full_name SET NOT NULL;
-- expect: contract-mixes-expand
ALTER TABLE users ADD COLUMN nickname text;
