CREATE FUNCTION double_score(score integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT score * 2 $$;

CREATE FUNCTION weighted_score(score integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT score * 2 $$;
