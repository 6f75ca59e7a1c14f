-- expect: remove-enum-value
ALTER TABLE orders MODIFY status ENUM('new', 'paid');
