-- expect: change-column-type
ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;

-- accept: change-column-type
ALTER TABLE orders ALTER COLUMN note TYPE varchar(500);

-- accept: change-column-type
ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);
