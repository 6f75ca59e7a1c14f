-- accept: add-not-null-column-without-default
-- An OR lets a NULL through where the other side holds: not a requirement.
ALTER TABLE users ADD COLUMN v text;
ALTER TABLE users ADD CONSTRAINT v_ok CHECK (v IS NOT NULL OR length(v) > 0) NOT VALID;
