ALTER TABLE tenant_rules DROP COLUMN IF EXISTS reason;
ALTER TABLE tenant_rules DROP COLUMN IF EXISTS author_id;
