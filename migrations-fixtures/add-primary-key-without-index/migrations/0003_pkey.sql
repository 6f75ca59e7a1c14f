-- expect: restrict-old-writes
-- expect: add-primary-key-without-index
ALTER TABLE events ADD PRIMARY KEY (id);

-- accept: add-primary-key-without-index
ALTER TABLE audits ADD CONSTRAINT audits_pkey PRIMARY KEY USING INDEX audits_pkey;
