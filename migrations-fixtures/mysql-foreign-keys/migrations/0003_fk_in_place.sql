SET foreign_key_checks = 0;

-- accept: add-foreign-key-without-not-valid
-- expect: restrict-old-writes
ALTER TABLE invoices ADD CONSTRAINT invoices_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
