-- expect: reindex-not-concurrently
REINDEX INDEX orders_quantity;
