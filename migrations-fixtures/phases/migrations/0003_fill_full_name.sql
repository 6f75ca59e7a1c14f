-- migrate:backfill
-- accept: backfill-never-shrinks
UPDATE users SET full_name = name WHERE id IN (SELECT id FROM users WHERE full_name IS NULL LIMIT 5000);
-- accept: backfill-not-dml
UPDATE users SET org_id = 1 WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 5000);
-- expect: backfill-never-shrinks
UPDATE users SET score = score + 1 WHERE id IN (SELECT id FROM users LIMIT 5000);
-- expect: backfill-not-dml
ANALYZE users;
