-- expect: opaque-ddl
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'mood') THEN
        CREATE TYPE mood AS ENUM ('happy', 'sad');
    END IF;
END
$$;

-- accept: opaque-ddl
DO $$
BEGIN
    UPDATE users SET email = lower(email) WHERE email <> lower(email);
END
$$;
