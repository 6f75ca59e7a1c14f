-- expect: create-index-not-concurrently
CREATE INDEX orders_quantity ON orders (quantity);

CREATE TABLE order_events (id bigint PRIMARY KEY, order_id bigint NOT NULL);

-- accept: create-index-not-concurrently
CREATE INDEX order_events_order_id ON order_events (order_id);
