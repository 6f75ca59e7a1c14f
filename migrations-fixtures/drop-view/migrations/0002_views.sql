-- expect: drop-view
DROP VIEW active_users;

CREATE VIEW user_emails AS SELECT id, email FROM users;

-- accept: drop-view
DROP VIEW user_emails;
