DROP TABLE IF EXISTS retention_state;
