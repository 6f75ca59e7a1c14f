-- expect: drop-schema
DROP SCHEMA reporting CASCADE;

CREATE SCHEMA scratch;

-- accept: drop-schema
DROP SCHEMA scratch;
