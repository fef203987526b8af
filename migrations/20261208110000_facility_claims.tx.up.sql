-- Facility criteria (scope: facility in the city's rules, e.g. "sibling attends the
-- facility"): the family names in application.criteria the chosen facility a claim is
-- for (criterion key → facility id); that facility confirms or rejects it here. Only a
-- confirmed claim counts, and only at its facility. A decision belongs to the pair
-- (criterion, facility): when the family names another facility, the claim there is
-- pending again. Every change is audited and written into the request's history.
CREATE TABLE application_claim (
    tenant_id      uuid NOT NULL,
    application_id uuid NOT NULL,
    criterion      text NOT NULL CHECK (length(criterion) BETWEEN 1 AND 64),
    facility_id    uuid NOT NULL,
    status         text NOT NULL CHECK (status IN ('confirmed', 'rejected')),
    note           text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    decided_by     uuid,
    decided_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, application_id, criterion, facility_id),
    FOREIGN KEY (tenant_id, application_id) REFERENCES application (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, facility_id) REFERENCES facility (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX application_claim_facility ON application_claim (tenant_id, facility_id);
SELECT kitaportal_enable_tenant_rls('application_claim');
