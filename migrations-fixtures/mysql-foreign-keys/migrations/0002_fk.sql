-- expect: add-foreign-key-without-not-valid, restrict-old-writes
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
