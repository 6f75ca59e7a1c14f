-- accept: drop-index-not-concurrently
DROP INDEX CONCURRENTLY IF EXISTS orders_note;
