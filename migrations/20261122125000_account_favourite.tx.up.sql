-- A signed-in parent's Merkliste: the facilities marked in the browser are carried into the
-- account at sign-in and follow the parent to every device from then on.
CREATE TABLE account_favourite (
    tenant_id   uuid NOT NULL,
    account_id  uuid NOT NULL,
    facility_id uuid NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, account_id, facility_id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES account (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, facility_id) REFERENCES facility (tenant_id, id) ON DELETE CASCADE
);
SELECT kitaportal_enable_tenant_rls('account_favourite');
