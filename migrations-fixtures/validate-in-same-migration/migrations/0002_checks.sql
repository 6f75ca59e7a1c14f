-- expect: restrict-old-writes
ALTER TABLE orders ADD CONSTRAINT quantity_positive CHECK (quantity > 0) NOT VALID;

-- expect: validate-in-same-migration
ALTER TABLE orders VALIDATE CONSTRAINT quantity_positive;

-- expect: restrict-old-writes
ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0) NOT VALID;
