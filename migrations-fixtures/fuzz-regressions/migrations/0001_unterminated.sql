CREATE FUNCTION weighted_score(score integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT score * 2 $$;

-- An unterminated dollar quote runs to the end of the file: the parser reports it at the end
-- of the file, the diagnostic points at the statement (fuzz: crash-c1c4fd77, 2026-11-23).
-- expect: unparsed-statement
CREATE FUNCTION weigh.ed_score(score integar) RETURNS integer
    LANGUAGE sql IMMUTABLE
 ders MODIFY code VARCHA 2 $$;
