-- expect: unbatched-backfill
UPDATE users SET org_id = 1 WHERE org_id IS NULL;

-- accept: unbatched-backfill
UPDATE users SET org_id = 1 WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 5000);
