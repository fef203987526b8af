-- Webhooks (issue 16): a city's back-office software subscribes HTTPS endpoints to the
-- events of requests, offers and contracts. Each event is written once (webhook_event,
-- its body frozen so every retry and replay sends the same bytes and the same id) with
-- one delivery per subscribed endpoint, in the transaction that caused it; the outbox
-- hands each delivery to the worker after commit. Every attempt is logged.
CREATE TABLE webhook_endpoint (
    tenant_id        uuid NOT NULL REFERENCES tenant (id),
    id               uuid NOT NULL,
    url              text NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    description      text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
    events           text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 20),
    enabled          boolean NOT NULL DEFAULT true,
    -- The signing secrets, sealed with AUTH_SECRET (they must be read back to sign).
    secret_sealed    bytea NOT NULL,
    -- After a rotation with a grace period the previous secret signs as well, until then.
    previous_sealed  bytea,
    previous_until   timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    rotated_at       timestamptz,
    PRIMARY KEY (tenant_id, id)
);
-- Who registered, changed, rotated or replayed is in the audit log (webhook.*).

CREATE TABLE webhook_event (
    tenant_id   uuid NOT NULL REFERENCES tenant (id),
    id          uuid NOT NULL,
    type        text NOT NULL,
    object_id   uuid,
    occurred_at timestamptz NOT NULL,
    body        text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_delivery (
    tenant_id       uuid NOT NULL REFERENCES tenant (id),
    id              uuid NOT NULL,
    endpoint_id     uuid NOT NULL,
    event_id        uuid NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz,
    last_status     int,
    last_error      text NOT NULL DEFAULT '',
    delivered_at    timestamptz,
    replay_of       uuid,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoint (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, event_id) REFERENCES webhook_event (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_delivery_log ON webhook_delivery (tenant_id, endpoint_id, created_at DESC);

CREATE TABLE webhook_attempt (
    tenant_id   uuid NOT NULL REFERENCES tenant (id),
    delivery_id uuid NOT NULL,
    attempt     int NOT NULL CHECK (attempt >= 1),
    at          timestamptz NOT NULL,
    status_code int,
    duration_ms int NOT NULL CHECK (duration_ms >= 0),
    error       text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, delivery_id, attempt),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_delivery (tenant_id, id) ON DELETE CASCADE
);

SELECT kitaportal_enable_tenant_rls('webhook_endpoint');
SELECT kitaportal_enable_tenant_rls('webhook_event');
SELECT kitaportal_enable_tenant_rls('webhook_delivery');
SELECT kitaportal_enable_tenant_rls('webhook_attempt');
