-- accept: reindex-not-concurrently
REINDEX INDEX CONCURRENTLY orders_quantity;
