-- expect: set-not-null
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id;
