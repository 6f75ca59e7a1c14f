-- expect: alter-domain-constraint
ALTER DOMAIN email ADD CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%');

-- expect: restrict-old-writes
-- accept: alter-domain-constraint
ALTER DOMAIN email ADD CONSTRAINT email_short CHECK (length(VALUE) < 320) NOT VALID;

-- expect: alter-domain-constraint
ALTER DOMAIN email SET NOT NULL;
