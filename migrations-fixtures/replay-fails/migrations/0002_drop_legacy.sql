-- migrate:allow drop-table: nothing has read legacy since 2019
DROP TABLE legacy;
