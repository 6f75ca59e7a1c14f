CREATE TABLE users (id bigint PRIMARY KEY, org_id bigint);
