ALTER TABLE orders MODIFY status ENUM('new', 'paid', 'refunded', 'disputed');

-- accept: remove-enum-value
ALTER TABLE orders MODIFY status ENUM('new', 'paid', 'refunded');
