-- expect: alter-lock-blocking
CREATE INDEX orders_note ON orders (note) LOCK=EXCLUSIVE;

-- accept: alter-lock-blocking
ALTER TABLE orders ADD COLUMN paid_at DATETIME NULL, LOCK=NONE;
