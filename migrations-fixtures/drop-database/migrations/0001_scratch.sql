-- migrate:no-transaction
-- accept: drop-database
CREATE DATABASE scratch;
