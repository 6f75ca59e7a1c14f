-- expect: rename-table
ALTER TABLE customers RENAME TO clients;

CREATE TABLE invoice_draft (id bigint PRIMARY KEY);

-- accept: rename-table
ALTER TABLE invoice_draft RENAME TO invoice_drafts;
