-- Written on Windows: a BOM and CRLF line endings.

-- expect: drop-column
ALTER TABLE users
    DROP COLUMN legacy_name;

-- accept: drop-column
ALTER TABLE users ADD COLUMN bio text;
