-- A follow-up run the worker starts by itself (allocation.auto_follow_up) publishes its
-- offers as soon as it is done; a case worker's runs wait for the case worker.
ALTER TABLE allocation_run ADD COLUMN auto_publish boolean NOT NULL DEFAULT false;

-- The snapshot's seats per facility and seat type, beside the snapshot: the round's page
-- lists them (the what-if form) without decoding a snapshot of many megabytes.
ALTER TABLE allocation_round ADD COLUMN seat_table jsonb NOT NULL DEFAULT '{}';
