-- expect: vacuum-full
VACUUM (VERBOSE, FULL) orders;
