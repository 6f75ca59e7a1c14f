-- expect: rename-function
ALTER FUNCTION double_score(integer) RENAME TO twice_score;

CREATE FUNCTION triple_score(score integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT score * 2 $$;

-- accept: rename-function
ALTER FUNCTION triple_score(integer) RENAME TO thrice_score;
