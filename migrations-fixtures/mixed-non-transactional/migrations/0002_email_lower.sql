ALTER TABLE users ADD COLUMN email_lower text;

-- expect: mixed-non-transactional
CREATE INDEX CONCURRENTLY users_email_lower ON users (email_lower);
