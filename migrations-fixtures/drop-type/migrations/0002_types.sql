-- expect: drop-type
DROP TYPE mood;

CREATE TYPE import_state AS ENUM ('queued', 'done');

-- accept: drop-type
DROP TYPE import_state;
