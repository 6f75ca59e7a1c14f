-- expect: mysql-inline-references
ALTER TABLE orders ADD COLUMN referrer_id bigint REFERENCES customers (id);

-- accept: mysql-inline-references
ALTER TABLE orders ADD COLUMN partner_id bigint;
