-- expect: change-column-type
ALTER TABLE orders MODIFY note VARCHAR(100);

-- accept: change-column-type
ALTER TABLE orders MODIFY code VARCHAR(60);

-- accept: change-column-type
ALTER TABLE orders MODIFY status ENUM('new', 'paid', 'refunded');
