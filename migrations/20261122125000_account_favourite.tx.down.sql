DROP TABLE IF EXISTS account_favourite;
