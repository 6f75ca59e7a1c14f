-- expect: rename-schema
ALTER SCHEMA billing RENAME TO invoicing;

CREATE SCHEMA scratch;

-- accept: rename-schema
ALTER SCHEMA scratch RENAME TO staging;
