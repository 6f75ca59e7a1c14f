-- expect: restrict-old-writes
-- accept: add-foreign-key-without-not-valid
ALTER TABLE orders ADD CONSTRAINT orders_user_fk2 FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
