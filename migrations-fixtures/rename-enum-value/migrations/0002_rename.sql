-- expect: rename-enum-value
ALTER TYPE order_status RENAME VALUE 'canceled' TO 'cancelled';

-- accept: rename-enum-value
ALTER TYPE order_status ADD VALUE 'refunded';
