-- accept: detach-partition-not-concurrently
ALTER TABLE events DETACH PARTITION events_2 FINALIZE;

-- expect: detach-partition-not-concurrently
ALTER TABLE events DETACH PARTITION events_1;
