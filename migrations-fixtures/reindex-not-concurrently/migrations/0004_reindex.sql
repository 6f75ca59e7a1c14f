-- accept: reindex-not-concurrently
REINDEX (CONCURRENTLY) INDEX orders_quantity;
