SET lock_timeout = '5s';

-- accept: mixed-non-transactional
CREATE INDEX CONCURRENTLY users_email ON users (email);
