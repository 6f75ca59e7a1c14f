-- accept: vacuum-full
VACUUM (ANALYZE) orders;
