-- expect: alter-algorithm-copy
ALTER TABLE orders ADD COLUMN shipped_at DATETIME NULL, ALGORITHM=COPY;

-- accept: alter-algorithm-copy
ALTER TABLE orders ADD COLUMN paid_at DATETIME NULL, ALGORITHM=INPLACE, LOCK=NONE;
