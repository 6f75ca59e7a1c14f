CREATE TABLE events (
    id bigint NOT NULL,
    kind text
);

CREATE TABLE audits (
    id bigint NOT NULL
);
