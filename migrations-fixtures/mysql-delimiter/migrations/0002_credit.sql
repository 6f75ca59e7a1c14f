DELIMITER $$
CREATE PROCEDURE credit(IN account BIGINT, IN amount BIGINT)
BEGIN
  UPDATE accounts SET balance = balance + amount WHERE id = account;
  SELECT balance FROM accounts WHERE id = account;
END$$
DELIMITER ;

-- expect: drop-column
ALTER TABLE accounts DROP COLUMN legacy_code;
