CREATE TABLE events (
    id bigint NOT NULL,
    at date NOT NULL
) PARTITION BY RANGE (at);
