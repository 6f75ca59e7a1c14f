ALTER TABLE users VALIDATE CONSTRAINT users_phone_not_null;
