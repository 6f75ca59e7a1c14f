-- expect: restrict-old-writes
-- expect: add-exclusion-constraint
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);

CREATE TABLE desk_bookings (
    id bigint PRIMARY KEY,
    desk integer NOT NULL,
    during tstzrange NOT NULL
);

-- accept: add-exclusion-constraint
ALTER TABLE desk_bookings ADD CONSTRAINT desk_no_overlap EXCLUDE USING gist (desk WITH =, during WITH &&);
