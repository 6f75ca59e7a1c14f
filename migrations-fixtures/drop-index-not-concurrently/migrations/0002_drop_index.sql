-- expect: drop-index-not-concurrently
DROP INDEX orders_quantity;
