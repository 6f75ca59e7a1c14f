-- expect: detach-partition-not-concurrently
ALTER TABLE events DETACH PARTITION events_2023;
