DROP TYPE order_status;

-- expect: remove-enum-value
CREATE TYPE order_status AS ENUM ('new', 'paid');
