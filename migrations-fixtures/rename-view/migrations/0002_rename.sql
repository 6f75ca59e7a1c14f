-- expect: rename-view
ALTER VIEW active_users RENAME TO current_users;

CREATE VIEW user_emails AS SELECT id, email FROM users;

-- accept: rename-view
ALTER VIEW user_emails RENAME TO user_addresses;
