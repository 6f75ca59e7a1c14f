-- expect: add-stored-generated-column
ALTER TABLE users ADD COLUMN email_lower text GENERATED ALWAYS AS (lower(email)) STORED;

-- accept: add-stored-generated-column
ALTER TABLE users ADD COLUMN email_domain text;
