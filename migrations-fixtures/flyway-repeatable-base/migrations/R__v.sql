-- expect: replace-view-changing-columns
CREATE OR REPLACE VIEW v AS SELECT a FROM t;
