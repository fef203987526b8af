DROP TABLE IF EXISTS stripe_event;
DROP TABLE IF EXISTS billing_account;
