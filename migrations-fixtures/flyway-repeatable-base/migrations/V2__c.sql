-- accept: drop-column
ALTER TABLE t ADD COLUMN c int;
