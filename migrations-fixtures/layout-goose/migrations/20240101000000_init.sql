-- +goose Up
CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy text);

-- +goose StatementBegin
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.email := lower(NEW.email);
  RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- accept: drop-table
DROP TABLE users;
