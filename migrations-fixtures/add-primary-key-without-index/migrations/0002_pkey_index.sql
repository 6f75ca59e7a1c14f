-- expect: restrict-old-writes
CREATE UNIQUE INDEX CONCURRENTLY audits_pkey ON audits (id);
