-- A follow-up run the worker starts by itself (allocation.auto_follow_up) publishes its
-- offers as soon as it is done; a case worker's runs wait for the case worker.
ALTER TABLE allocation_run ADD COLUMN auto_publish boolean NOT NULL DEFAULT false;
