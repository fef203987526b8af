DROP INDEX application_choice_turn;
ALTER TABLE application_choice DROP COLUMN turn_until;
ALTER TABLE application_choice DROP CONSTRAINT application_choice_status_check;
ALTER TABLE application_choice ADD CONSTRAINT application_choice_status_check CHECK (status IN (
    'pending', 'in_review', 'proposed', 'paused', 'refused', 'offered', 'accepted', 'declined', 'withdrawn'));
DROP INDEX offer_release;
DROP INDEX offer_due;
DROP INDEX offer_one_per_child;
DROP INDEX offer_one_per_choice;
DROP INDEX offer_facility_holding;
CREATE INDEX offer_facility_holding ON offer (tenant_id, facility_id) WHERE status IN ('open', 'accepted');
ALTER TABLE offer DROP COLUMN choice_rank, DROP COLUMN exclusive, DROP COLUMN opens_at, DROP COLUMN reminded_days,
    DROP COLUMN made_by, DROP COLUMN reason, DROP COLUMN contract_id;
ALTER TABLE offer DROP CONSTRAINT offer_status_check;
ALTER TABLE offer ADD CONSTRAINT offer_status_check CHECK (status IN ('open', 'accepted', 'declined', 'expired', 'withdrawn', 'contracted'));
