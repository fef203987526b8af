DROP TABLE IF EXISTS data_export;
