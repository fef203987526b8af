-- Photos of a facility, in the order the profile shows them. Providers upload them; the
-- demo data draws its own. Kept in the database so a deployment stays one binary plus
-- PostgreSQL.
CREATE TABLE facility_photo (
    tenant_id    uuid NOT NULL,
    facility_id  uuid NOT NULL,
    position     smallint NOT NULL CHECK (position BETWEEN 1 AND 20),
    content_type text NOT NULL CHECK (content_type IN ('image/svg+xml', 'image/jpeg', 'image/png', 'image/webp')),
    data         bytea NOT NULL CHECK (octet_length(data) BETWEEN 1 AND 2097152),
    alt          text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, facility_id, position),
    FOREIGN KEY (tenant_id, facility_id) REFERENCES facility (tenant_id, id) ON DELETE CASCADE
);
