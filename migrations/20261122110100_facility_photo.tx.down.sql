DROP TABLE IF EXISTS facility_photo;
