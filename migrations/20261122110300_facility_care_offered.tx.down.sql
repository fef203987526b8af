ALTER TABLE facility DROP COLUMN IF EXISTS care_offered;
