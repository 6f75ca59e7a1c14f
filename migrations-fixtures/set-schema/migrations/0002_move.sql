-- expect: set-schema
ALTER TABLE invoices SET SCHEMA archive;

CREATE TABLE invoice_import (id bigint PRIMARY KEY);

-- accept: set-schema
ALTER TABLE invoice_import SET SCHEMA archive;
