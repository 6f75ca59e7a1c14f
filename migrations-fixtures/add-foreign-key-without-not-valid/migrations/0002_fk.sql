-- expect: restrict-old-writes
-- expect: add-foreign-key-without-not-valid
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
