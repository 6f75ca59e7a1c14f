ALTER TABLE users ADD COLUMN score_new text;
UPDATE users SET score_new = trim(score);
-- accept: drop-column
ALTER TABLE users DROP COLUMN score;
-- accept: rename-column, drop-and-add-column
ALTER TABLE users RENAME COLUMN score_new TO score;
