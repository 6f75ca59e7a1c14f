CREATE TABLE events (
    uuid uuid PRIMARY KEY,
    kind text
);
