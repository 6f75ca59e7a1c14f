-- expect: cluster-table
CLUSTER orders USING orders_quantity;

-- accept: cluster-table
ANALYZE orders;
