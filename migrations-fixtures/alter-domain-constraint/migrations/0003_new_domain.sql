CREATE DOMAIN code AS text;

-- accept: alter-domain-constraint, restrict-old-writes
ALTER DOMAIN code SET NOT NULL;
