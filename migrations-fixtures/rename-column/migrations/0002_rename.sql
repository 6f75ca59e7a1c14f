-- expect: rename-column
ALTER TABLE users RENAME COLUMN name TO full_name;

ALTER TABLE users ADD COLUMN nick text;

-- accept: rename-column
ALTER TABLE users RENAME COLUMN nick TO nickname;
