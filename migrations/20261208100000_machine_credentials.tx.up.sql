-- Machine credentials: scoped API keys with which a city's back-office software calls the
-- JSON API of that city's host (issue 19). A tenant admin creates, rotates and revokes
-- them; the secret (kp_live_…) is shown once and only its SHA-256 is kept, with a short
-- prefix to recognise it in the list. scopes name what the key may do (the credential
-- package maps each scope to route permissions); a revoked key stays listed.
CREATE TABLE machine_credential (
    tenant_id     uuid NOT NULL REFERENCES tenant (id),
    id            uuid NOT NULL,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    scopes        text[] NOT NULL CHECK (cardinality(scopes) BETWEEN 1 AND 20),
    secret_prefix text NOT NULL CHECK (length(secret_prefix) BETWEEN 8 AND 20),
    secret_hash   bytea NOT NULL CHECK (length(secret_hash) = 32),
    created_by    uuid,
    created_at    timestamptz NOT NULL,
    rotated_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    revoked_by    uuid,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, secret_hash),
    FOREIGN KEY (tenant_id, created_by) REFERENCES account (tenant_id, id),
    FOREIGN KEY (tenant_id, revoked_by) REFERENCES account (tenant_id, id)
);
-- One live key per name, so the audit log's "credential: <name>" is unambiguous.
CREATE UNIQUE INDEX machine_credential_live_name ON machine_credential (tenant_id, lower(name)) WHERE revoked_at IS NULL;

SELECT kitaportal_enable_tenant_rls('machine_credential');

-- Audit entries of calls made with a credential name the machine as their actor.
ALTER TABLE audit_event DROP CONSTRAINT audit_event_actor_kind_check;
ALTER TABLE audit_event ADD CONSTRAINT audit_event_actor_kind_check
    CHECK (actor_kind IN ('anonymous', 'parent', 'staff', 'operator', 'system', 'machine'));
