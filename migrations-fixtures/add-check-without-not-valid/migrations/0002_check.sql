-- expect: restrict-old-writes
-- expect: add-check-without-not-valid
ALTER TABLE orders ADD CONSTRAINT quantity_positive CHECK (quantity > 0);

-- expect: restrict-old-writes
-- accept: add-check-without-not-valid
ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0) NOT VALID;
