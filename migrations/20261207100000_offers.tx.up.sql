-- Offers as the one way a seat is promised (issue 11). An offer may wait before it goes
-- out: proposed (the administration confirms a facility's offer, Herzberg), prepared
-- (released offers.lead_months before the start, Kempten) or reserved (a family reserved
-- a place shown free, the facility confirms, Leipzig). Every unfinished offer holds its
-- seat in the availability engine.
ALTER TABLE offer DROP CONSTRAINT offer_status_check;
ALTER TABLE offer ADD CONSTRAINT offer_status_check CHECK (status IN (
    'proposed', 'prepared', 'reserved', 'open', 'accepted', 'declined', 'expired', 'withdrawn', 'contracted'));
ALTER TABLE offer
    ADD COLUMN choice_rank   smallint,
    -- One-offer lock and cascade cities: one unfinished offer per child (index below).
    ADD COLUMN exclusive     boolean NOT NULL DEFAULT false,
    -- A prepared offer opens at this moment.
    ADD COLUMN opens_at      timestamptz,
    -- The reminders already sent, as days before the deadline: each goes out once.
    ADD COLUMN reminded_days integer[] NOT NULL DEFAULT '{}',
    ADD COLUMN made_by       uuid,
    -- Why staff passed over requests ahead in the city's order.
    ADD COLUMN reason        text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    ADD COLUMN contract_id   uuid;

DROP INDEX offer_facility_holding;
CREATE INDEX offer_facility_holding ON offer (tenant_id, facility_id) WHERE status IN ('proposed', 'prepared', 'reserved', 'open', 'accepted');
-- A choice is offered at most one seat at a time, whoever clicks twice.
CREATE UNIQUE INDEX offer_one_per_choice ON offer (tenant_id, application_id, choice_rank)
    WHERE status IN ('proposed', 'prepared', 'reserved', 'open', 'accepted');
-- In lock and cascade cities a child holds at most one unfinished offer.
CREATE UNIQUE INDEX offer_one_per_child ON offer (tenant_id, child_id)
    WHERE exclusive AND status IN ('proposed', 'prepared', 'reserved', 'open', 'accepted');
-- What the scheduler looks for: deadlines and release days.
CREATE INDEX offer_due ON offer (tenant_id, expires_at) WHERE status IN ('open', 'reserved');
CREATE INDEX offer_release ON offer (tenant_id, opens_at) WHERE status = 'prepared';

-- Choices in the offer flow: queued (cascade: not its turn yet), passed (cascade: the
-- facility passed or its days ran out), ended (the child was placed elsewhere). A
-- cascade choice's turn runs until turn_until.
ALTER TABLE application_choice DROP CONSTRAINT application_choice_status_check;
ALTER TABLE application_choice ADD CONSTRAINT application_choice_status_check CHECK (status IN (
    'queued', 'pending', 'in_review', 'proposed', 'paused', 'refused', 'passed', 'offered', 'accepted', 'declined',
    'withdrawn', 'ended'));
ALTER TABLE application_choice ADD COLUMN turn_until timestamptz;
CREATE INDEX application_choice_turn ON application_choice (tenant_id, turn_until) WHERE turn_until IS NOT NULL;
