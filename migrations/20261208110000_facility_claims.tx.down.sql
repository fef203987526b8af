DROP TABLE IF EXISTS application_claim;
