-- accept: validate-in-same-migration
ALTER TABLE orders VALIDATE CONSTRAINT total_positive;
