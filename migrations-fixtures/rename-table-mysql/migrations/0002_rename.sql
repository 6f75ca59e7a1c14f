-- expect: rename-table
RENAME TABLE customers TO clients;

CREATE TABLE invoice_draft (id BIGINT PRIMARY KEY);

-- accept: rename-table
RENAME TABLE invoice_draft TO invoice_drafts;
