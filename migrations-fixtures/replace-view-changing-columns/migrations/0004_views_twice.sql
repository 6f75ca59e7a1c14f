CREATE OR REPLACE VIEW active_users AS SELECT id, email AS login, name, 1 AS extra FROM users WHERE name IS NOT NULL;

-- accept: replace-view-changing-columns
CREATE OR REPLACE VIEW active_users AS SELECT id, email AS login, name FROM users WHERE name IS NOT NULL;
