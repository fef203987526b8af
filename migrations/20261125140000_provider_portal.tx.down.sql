DROP INDEX IF EXISTS contract_reference;
ALTER TABLE contract
    DROP COLUMN IF EXISTS reference,
    DROP CONSTRAINT IF EXISTS contract_replaces,
    DROP COLUMN IF EXISTS replaces_id,
    DROP CONSTRAINT IF EXISTS contract_group_of_facility;
ALTER TABLE facility_group DROP CONSTRAINT IF EXISTS facility_group_of_facility;
DELETE FROM facility_photo WHERE data IS NULL;
ALTER TABLE facility_photo
    DROP CONSTRAINT IF EXISTS facility_photo_content,
    DROP COLUMN IF EXISTS thumb_key,
    DROP COLUMN IF EXISTS storage_key,
    ALTER COLUMN data SET NOT NULL;
DROP TABLE IF EXISTS facility_closure;
