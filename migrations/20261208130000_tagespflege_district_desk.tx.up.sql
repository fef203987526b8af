-- Bochum's Kindertagespflege choice "in district X": one row per district that stands for
-- the district's childminders as a whole. The family names the district, the district's
-- Fachberatung places the child with one of them (registration.tagespflege_by_district).
-- It is a facility so that every path of a choice (routing, staff scopes, lists, the
-- register's contract) works unchanged; it has no groups and no places of its own, and the
-- search never lists it.
ALTER TABLE facility ADD COLUMN brokered boolean NOT NULL DEFAULT false;
ALTER TABLE facility ADD CONSTRAINT facility_brokered_is_tagespflege
    CHECK (NOT brokered OR (type = 'tagespflege' AND district_key IS NOT NULL));
CREATE UNIQUE INDEX facility_one_desk_per_district ON facility (tenant_id, district_key) WHERE brokered;
