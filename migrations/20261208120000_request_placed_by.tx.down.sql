DROP INDEX IF EXISTS application_placed_by;
ALTER TABLE application DROP COLUMN IF EXISTS placed_by;
