-- accept: vacuum-full
VACUUM (FULL FALSE, ANALYZE) orders;
