-- expect: drop-table
DROP TABLE sessions;

CREATE TABLE import_batch (id bigint PRIMARY KEY, payload jsonb);

-- accept: drop-table
DROP TABLE import_batch;
