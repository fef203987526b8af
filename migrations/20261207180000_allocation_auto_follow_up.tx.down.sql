ALTER TABLE allocation_round DROP COLUMN IF EXISTS seat_table;
ALTER TABLE allocation_run DROP COLUMN IF EXISTS auto_publish;
