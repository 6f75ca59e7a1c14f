-- expect: delete-without-where
DELETE FROM sessions;

-- accept: delete-without-where
-- expect: unbatched-backfill
DELETE FROM sessions WHERE expires_at < now() - interval '30 days';
