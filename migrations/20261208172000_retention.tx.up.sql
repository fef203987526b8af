-- The retention job's state per city (issue 15): it only reports (dry run) until the
-- tenant admin has confirmed the dry run on /staff/retention (enabled_at); then it
-- deletes daily what is past the city's periods (tenants/*.yaml, retention:).
CREATE TABLE retention_state (
    tenant_id   uuid NOT NULL REFERENCES tenant (id),
    enabled_at  timestamptz,
    enabled_by  uuid,
    last_run_at timestamptz,
    PRIMARY KEY (tenant_id)
);

SELECT kitaportal_enable_tenant_rls('retention_state');
