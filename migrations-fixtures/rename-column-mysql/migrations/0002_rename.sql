-- expect: rename-column
ALTER TABLE users CHANGE name full_name VARCHAR(100);

-- accept: rename-column
ALTER TABLE users CHANGE full_name full_name VARCHAR(100) NULL;
