CREATE TABLE audit_log (id bigint PRIMARY KEY, event text NOT NULL);
