-- expect: vacuum-full
VACUUM FULL orders;
