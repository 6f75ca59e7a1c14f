-- expect: drop-function
DROP FUNCTION double_score(integer);

-- accept: drop-function
DROP FUNCTION weighted_score(integer);

CREATE FUNCTION weighted_score(score integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT score * 2 $$;
