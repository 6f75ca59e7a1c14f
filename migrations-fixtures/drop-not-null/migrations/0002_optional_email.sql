-- expect: drop-not-null
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;

ALTER TABLE users ADD COLUMN locale text NOT NULL DEFAULT 'en';

-- accept: drop-not-null
ALTER TABLE users ALTER COLUMN locale DROP NOT NULL;
