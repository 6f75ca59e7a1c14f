-- Expand step: the old app ignores the new nullable column.
ALTER TABLE users ADD COLUMN display_name TEXT;
