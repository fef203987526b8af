DROP INDEX IF EXISTS facility_one_desk_per_district;
ALTER TABLE facility DROP CONSTRAINT IF EXISTS facility_brokered_is_tagespflege;
ALTER TABLE facility DROP COLUMN IF EXISTS brokered;
