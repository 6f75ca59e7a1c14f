-- expect: replace-view-changing-columns
CREATE OR REPLACE VIEW active_users AS SELECT id, email AS login FROM users WHERE name IS NOT NULL;
