ALTER TABLE events DROP CONSTRAINT events_pkey;

-- accept: set-not-null
ALTER TABLE events ADD CONSTRAINT events_code_pkey PRIMARY KEY USING INDEX events_code;
