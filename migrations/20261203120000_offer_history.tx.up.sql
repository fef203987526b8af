-- The history of an offer: every status change, who made it and why (a withdrawal by
-- staff names its reason).
CREATE TABLE offer_event (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    offer_id    uuid NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_kind  text NOT NULL CHECK (actor_kind IN ('parent', 'staff', 'system', 'operator')),
    actor_id    uuid,
    from_status text NOT NULL,
    to_status   text NOT NULL,
    note        text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, offer_id) REFERENCES offer (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX offer_event_offer ON offer_event (tenant_id, offer_id, at);
SELECT kitaportal_enable_tenant_rls('offer_event');
