-- expect: reindex-not-concurrently
REINDEX (VERBOSE) INDEX orders_quantity;
