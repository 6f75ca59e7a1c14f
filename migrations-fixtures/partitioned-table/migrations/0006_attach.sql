ALTER INDEX events_id ATTACH PARTITION events_1_id;
