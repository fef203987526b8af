-- Child file (Kinderakte, issue 15): per child the pick-up persons and emergency contacts
-- (guardians keep them), health data sealed at field level (AES-GCM under CHILDFILE_KEY,
-- the key id beside it so keys can rotate) stored only with a recorded guardian consent,
-- dated staff notes (sealed as well) and the emergency accesses with their reasons
-- (sealed: a reason may name a condition; the audit log only says that it happened).
CREATE TABLE child_file (
    tenant_id        uuid NOT NULL REFERENCES tenant (id),
    child_id         uuid NOT NULL,
    pickup_persons   jsonb NOT NULL DEFAULT '[]',
    emergency_contacts jsonb NOT NULL DEFAULT '[]',
    health_sealed    bytea,
    health_key_id    text,
    health_consent_at timestamptz,
    health_consent_by uuid,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, child_id),
    FOREIGN KEY (tenant_id, child_id) REFERENCES child (tenant_id, id) ON DELETE CASCADE,
    CHECK (health_sealed IS NULL OR (health_key_id IS NOT NULL AND health_consent_at IS NOT NULL))
);

CREATE TABLE child_file_note (
    tenant_id    uuid NOT NULL REFERENCES tenant (id),
    id           uuid NOT NULL,
    child_id     uuid NOT NULL,
    author_id    uuid,
    author_label text NOT NULL,
    body_sealed  bytea NOT NULL,
    key_id       text NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, child_id) REFERENCES child (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX child_file_note_child ON child_file_note (tenant_id, child_id, created_at);

CREATE TABLE child_file_access (
    tenant_id     uuid NOT NULL REFERENCES tenant (id),
    id            uuid NOT NULL,
    child_id      uuid NOT NULL,
    facility_id   uuid NOT NULL,
    actor_id      uuid,
    actor_label   text NOT NULL,
    reason_sealed bytea NOT NULL,
    key_id        text NOT NULL,
    at            timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, child_id) REFERENCES child (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX child_file_access_child ON child_file_access (tenant_id, child_id, at);

SELECT kitaportal_enable_tenant_rls('child_file');
SELECT kitaportal_enable_tenant_rls('child_file_note');
SELECT kitaportal_enable_tenant_rls('child_file_access');
