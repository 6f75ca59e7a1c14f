-- expect: add-serial-column
ALTER TABLE events ADD COLUMN seq bigserial;

-- accept: add-serial-column
ALTER TABLE events ADD COLUMN seq_pending bigint;
