ALTER TABLE facility DROP COLUMN IF EXISTS closes_earliest, DROP COLUMN IF EXISTS opens_latest;
