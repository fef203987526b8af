DROP TABLE IF EXISTS availability_state;
DROP TABLE IF EXISTS availability;
