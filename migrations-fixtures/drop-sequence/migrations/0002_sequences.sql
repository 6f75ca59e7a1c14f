-- expect: drop-sequence
DROP SEQUENCE invoice_numbers;

CREATE SEQUENCE import_batches;

-- accept: drop-sequence
DROP SEQUENCE import_batches;
