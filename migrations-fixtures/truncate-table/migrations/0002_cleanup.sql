-- expect: truncate-table
TRUNCATE audit_log;

CREATE TABLE import_staging (id bigint, payload text);

-- accept: truncate-table
TRUNCATE import_staging;
