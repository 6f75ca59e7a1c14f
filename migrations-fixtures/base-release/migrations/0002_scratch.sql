ALTER TABLE users ADD COLUMN scratch text;
