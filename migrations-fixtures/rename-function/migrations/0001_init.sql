CREATE FUNCTION double_score(score integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT score * 2 $$;
