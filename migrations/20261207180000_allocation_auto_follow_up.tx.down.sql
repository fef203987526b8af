ALTER TABLE allocation_run DROP COLUMN IF EXISTS auto_publish;
