-- expect: transaction-control
BEGIN;

-- accept: transaction-control
ALTER TABLE users ADD COLUMN nickname text;

-- expect: transaction-control
COMMIT;
