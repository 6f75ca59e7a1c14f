-- expect: add-column-volatile-default
ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();

-- accept: add-column-volatile-default
ALTER TABLE orders ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
