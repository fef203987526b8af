-- A parent's DSGVO export (issue 15): everything stored about the account and its
-- families' children as JSON (Art. 20) and a readable PDF (Art. 15), made by a job
-- into storage and offered for download until expires_at.
CREATE TABLE data_export (
    tenant_id   uuid NOT NULL REFERENCES tenant (id),
    id          uuid NOT NULL,
    account_id  uuid NOT NULL,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed')),
    lang        text NOT NULL DEFAULT 'de' CHECK (length(lang) <= 8),
    json_key    text CHECK (length(json_key) <= 512),
    pdf_key     text CHECK (length(pdf_key) <= 512),
    json_bytes  bigint,
    pdf_bytes   bigint,
    created_at  timestamptz NOT NULL,
    ready_at    timestamptz,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES account (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX data_export_account ON data_export (tenant_id, account_id, created_at DESC);

SELECT kitaportal_enable_tenant_rls('data_export');
