CREATE TABLE events (id bigint, code text NOT NULL, v int);
