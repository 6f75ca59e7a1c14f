-- expect: add-not-null-column-without-default
ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;

-- accept: add-not-null-column-without-default
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'member';
