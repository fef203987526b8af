DROP TABLE IF EXISTS allocation_result;
DROP TABLE IF EXISTS allocation_run;
DROP TABLE IF EXISTS allocation_round;
