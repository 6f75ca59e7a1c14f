-- expect: drop-materialized-view
DROP MATERIALIZED VIEW user_counts;

CREATE MATERIALIZED VIEW email_domains AS SELECT split_part(email, '@', 2) AS domain FROM users;

-- accept: drop-materialized-view
DROP MATERIALIZED VIEW email_domains;
