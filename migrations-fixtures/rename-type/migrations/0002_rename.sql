-- expect: rename-type
ALTER TYPE order_status RENAME TO order_state;

CREATE TYPE import_kind AS ENUM ('csv', 'json');

-- accept: rename-type
ALTER TYPE import_kind RENAME TO import_format;
