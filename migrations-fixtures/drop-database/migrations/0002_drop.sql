-- migrate:no-transaction
-- expect: drop-database
DROP DATABASE scratch;
