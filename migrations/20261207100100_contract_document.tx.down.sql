DROP INDEX IF EXISTS contract_one_per_offer;
ALTER TABLE contract
    DROP COLUMN IF EXISTS offer_id,
    DROP COLUMN IF EXISTS document_key,
    DROP COLUMN IF EXISTS document_at,
    DROP COLUMN IF EXISTS papers_received_at,
    DROP COLUMN IF EXISTS papers_received_by;
