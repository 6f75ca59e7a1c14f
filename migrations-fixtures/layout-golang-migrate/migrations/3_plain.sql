-- expect-file: invalid-migration-name
SELECT 1;
