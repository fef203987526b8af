-- Accounts, sessions, roles, authorization policies, audit, operators and support access;
-- row-level security on every tenant table as the second line of defence.
--
-- Parents and staff are accounts of one tenant: the same e-mail in two cities is two
-- accounts, and a parent account and a staff account of one person in one city are two
-- accounts too (kind). Secrets are never stored in the clear: passwords as argon2id
-- hashes, session and mail tokens as SHA-256 hashes, TOTP secrets sealed with AUTH_SECRET.

CREATE TABLE account (
    tenant_id         uuid NOT NULL REFERENCES tenant (id),
    id                uuid NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('parent', 'staff')),
    email             citext NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    -- pending: registered or invited, not yet confirmed; deleted: anonymised tombstone
    -- kept so audit entries still name "a deleted account".
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'disabled', 'deleted')),
    password_hash     text,
    first_name        text NOT NULL DEFAULT '' CHECK (length(first_name) <= 100),
    last_name         text NOT NULL DEFAULT '' CHECK (length(last_name) <= 100),
    language          text NOT NULL DEFAULT 'de' CHECK (language ~ '^[a-z]{2}$'),
    email_verified_at timestamptz,
    totp_secret       bytea,   -- sealed (AES-GCM); NULL until enrolment starts
    totp_enabled_at   timestamptz,
    totp_last_step    bigint NOT NULL DEFAULT 0, -- last accepted time step: a code works once
    last_login_at     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, kind, email),
    CHECK (status <> 'active' OR password_hash IS NOT NULL)
);

-- Single-use tokens sent by mail: e-mail verification, password reset, e-mail change,
-- staff invitation. payload holds what the token confirms (a pending registration's
-- password hash and names; the new address), never the token itself.
CREATE TABLE account_token (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL,
    account_id uuid NOT NULL,
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'change_email', 'invitation')),
    token_hash bytea NOT NULL,
    payload    jsonb NOT NULL DEFAULT '{}',
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, account_id) REFERENCES account (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX account_token_account ON account_token (tenant_id, account_id, purpose);

-- Single-use recovery codes of a staff account's second factor.
CREATE TABLE recovery_code (
    tenant_id  uuid NOT NULL,
    account_id uuid NOT NULL,
    code_hash  bytea NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (tenant_id, account_id, code_hash),
    FOREIGN KEY (tenant_id, account_id) REFERENCES account (tenant_id, id) ON DELETE CASCADE
);

-- Roles of staff accounts with their object scope: a provider admin for one provider, a
-- facility lead or staff member for one facility, a Tagespflege counsellor for one
-- district. Queries join this table, so a revoked role stops access at once.
CREATE TABLE staff_role (
    tenant_id    uuid NOT NULL,
    id           uuid NOT NULL,
    account_id   uuid NOT NULL,
    role         text NOT NULL CHECK (role IN ('tenant_admin', 'case_worker', 'tagespflege_counsellor',
                     'provider_admin', 'facility_lead', 'facility_staff')),
    provider_id  uuid,
    facility_id  uuid,
    district_key text,
    granted_at   timestamptz NOT NULL DEFAULT now(),
    granted_by   uuid,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES account (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, provider_id) REFERENCES provider (tenant_id, id),
    FOREIGN KEY (tenant_id, facility_id) REFERENCES facility (tenant_id, id),
    FOREIGN KEY (tenant_id, district_key) REFERENCES district (tenant_id, key),
    CONSTRAINT staff_role_scope CHECK (
        (role IN ('tenant_admin', 'case_worker') AND provider_id IS NULL AND facility_id IS NULL AND district_key IS NULL)
        OR (role = 'provider_admin' AND provider_id IS NOT NULL AND facility_id IS NULL AND district_key IS NULL)
        OR (role IN ('facility_lead', 'facility_staff') AND facility_id IS NOT NULL AND provider_id IS NULL AND district_key IS NULL)
        OR (role = 'tagespflege_counsellor' AND district_key IS NOT NULL AND provider_id IS NULL AND facility_id IS NULL)),
    CONSTRAINT staff_role_once UNIQUE NULLS NOT DISTINCT (tenant_id, account_id, role, provider_id, facility_id, district_key)
);
CREATE INDEX staff_role_account ON staff_role (tenant_id, account_id);

-- Vendor operators: platform accounts on the base domain, always with a second factor.
CREATE TABLE operator (
    id              uuid PRIMARY KEY,
    email           citext NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    password_hash   text NOT NULL,
    totp_secret     bytea,
    totp_enabled_at timestamptz,
    totp_last_step  bigint NOT NULL DEFAULT 0,
    last_login_at   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- An operator's explicit, time-limited access to one tenant's data, with its reason. The
-- operator enters the tenant's host with a single-use entry token (a cookie of the base
-- domain is never valid on a tenant host).
CREATE TABLE support_access (
    tenant_id        uuid NOT NULL REFERENCES tenant (id),
    id               uuid NOT NULL,
    operator_id      uuid NOT NULL REFERENCES operator (id),
    reason           text NOT NULL CHECK (length(reason) BETWEEN 10 AND 500),
    starts_at        timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    ended_at         timestamptz,
    entry_token_hash bytea NOT NULL,
    entry_expires_at timestamptz NOT NULL,
    entry_used_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, entry_token_hash),
    CHECK (expires_at > starts_at)
);

-- Server-side sessions of a tenant host: browser sessions (cookie) and API bearer tokens
-- (api). Only the SHA-256 of the secret is stored. A staff session counts only after the
-- second factor (mfa_done).
CREATE TABLE auth_session (
    tenant_id    uuid NOT NULL REFERENCES tenant (id),
    id           uuid NOT NULL,
    token_hash   bytea NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('cookie', 'api')),
    principal    text NOT NULL CHECK (principal IN ('parent', 'staff', 'support')),
    account_id   uuid,
    support_id   uuid,
    mfa_done     boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, account_id) REFERENCES account (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, support_id) REFERENCES support_access (tenant_id, id) ON DELETE CASCADE,
    CHECK ((principal = 'support') = (support_id IS NOT NULL)),
    CHECK ((principal = 'support') = (account_id IS NULL))
);
CREATE INDEX auth_session_account ON auth_session (tenant_id, account_id);

-- Operator sessions on the base domain (platform table).
CREATE TABLE operator_session (
    id           uuid PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    operator_id  uuid NOT NULL REFERENCES operator (id) ON DELETE CASCADE,
    mfa_done     boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

-- casbin policies (RBAC with domains). p rules come from config/permissions.yaml (domain
-- "*": the catalogue is the same in every city); g rules give a staff account a role in
-- one tenant's domain, and carry that tenant for row-level security.
CREATE TABLE casbin_rule (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid REFERENCES tenant (id),
    ptype     text NOT NULL,
    v0        text NOT NULL DEFAULT '',
    v1        text NOT NULL DEFAULT '',
    v2        text NOT NULL DEFAULT '',
    v3        text NOT NULL DEFAULT '',
    v4        text NOT NULL DEFAULT '',
    v5        text NOT NULL DEFAULT '',
    UNIQUE (ptype, v0, v1, v2, v3, v4, v5),
    CHECK ((ptype LIKE 'g%') = (tenant_id IS NOT NULL)),
    CHECK (tenant_id IS NULL OR v2 = tenant_id::text)
);

-- Bumped by every change of casbin_rule, so every server process notices it and reloads.
CREATE TABLE authz_policy_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL
);
INSERT INTO authz_policy_version (version) VALUES (1);

CREATE FUNCTION casbin_rule_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE authz_policy_version SET version = version + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER casbin_rule_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON casbin_rule
    FOR EACH STATEMENT EXECUTE FUNCTION casbin_rule_changed();

-- The audit log of a tenant, append-only: sign-ins and failed sign-ins, invitations and
-- role changes, every read and change of child or family data by staff, exports, support
-- access. child_ids names every child whose data the action showed or changed, so "who
-- saw this child" is one indexed query. Never passwords, tokens or health details.
CREATE TABLE audit_event (
    tenant_id   uuid NOT NULL REFERENCES tenant (id),
    id          uuid NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_kind  text NOT NULL CHECK (actor_kind IN ('anonymous', 'parent', 'staff', 'operator', 'system')),
    actor_id    uuid,
    actor_label text NOT NULL DEFAULT '' CHECK (length(actor_label) <= 300),
    action      text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    object_kind text NOT NULL DEFAULT '',
    object_id   text NOT NULL DEFAULT '',
    child_ids   uuid[] NOT NULL DEFAULT '{}',
    ip          inet,
    request_id  text NOT NULL DEFAULT '',
    details     jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_event_at ON audit_event (tenant_id, at DESC, id DESC);
CREATE INDEX audit_event_actor ON audit_event (tenant_id, actor_id, at DESC);
CREATE INDEX audit_event_object ON audit_event (tenant_id, object_kind, object_id);
CREATE INDEX audit_event_children ON audit_event USING gin (child_ids);

-- What operators do on the platform (sign-ins, onboarding, invitations, support access).
CREATE TABLE operator_audit_event (
    id          uuid PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    operator_id uuid,
    actor_label text NOT NULL DEFAULT '' CHECK (length(actor_label) <= 300),
    action      text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    tenant_id   uuid REFERENCES tenant (id),
    ip          inet,
    request_id  text NOT NULL DEFAULT '',
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX operator_audit_event_at ON operator_audit_event (at DESC);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER operator_audit_event_append_only BEFORE UPDATE OR DELETE ON operator_audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER operator_audit_event_no_truncate BEFORE TRUNCATE ON operator_audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- Row-level security. The portal connects as the schema owner (a superuser in dev and
-- test); database.InTenantTx switches each tenant transaction to the role kitaportal_app,
-- which owns nothing, is subject to the policies below, and sees only rows of the tenant
-- set in app.tenant_id for that transaction. Roles are cluster-wide and several databases
-- may be migrated at once, so creation tolerates a concurrent twin.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kitaportal_app') THEN
        CREATE ROLE kitaportal_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- created by a concurrent migration of another database
END
$$;
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'kitaportal_app', 'MEMBER') THEN
        EXECUTE format('GRANT kitaportal_app TO %I', current_user);
    END IF;
EXCEPTION WHEN unique_violation THEN
    NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO kitaportal_app;

-- kitaportal_enable_tenant_rls(table) puts a table under the tenant policy and gives the
-- app role access. Every migration that adds a tenant table calls it; a test fails for any
-- table with a tenant_id column that is not covered.
CREATE FUNCTION kitaportal_enable_tenant_rls(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', tbl);
    EXECUTE format('CREATE POLICY tenant_isolation ON %s TO kitaportal_app '
        'USING (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid) '
        'WITH CHECK (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid)', tbl);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO kitaportal_app', tbl);
END
$$;

-- Every table that has a tenant_id column now (the foundation's, this migration's, and
-- those of features migrated before this file).
DO $$
DECLARE t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass FROM pg_class c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
    LOOP
        PERFORM kitaportal_enable_tenant_rls(t);
    END LOOP;
END
$$;

-- The tenant reference table: a tenant transaction sees its own row only.
ALTER TABLE tenant ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant TO kitaportal_app
    USING (id = nullif(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT ON tenant TO kitaportal_app;

-- The audit logs are append-only for the app: no UPDATE or DELETE grant (and the
-- triggers refuse them for everyone else).
REVOKE UPDATE, DELETE ON audit_event, operator_audit_event FROM kitaportal_app;
-- Platform tables a tenant transaction writes to.
GRANT SELECT, UPDATE ON authz_policy_version TO kitaportal_app;
-- A support session names its operator; nothing else of the operator table is visible.
GRANT SELECT (id, email, name, status) ON operator TO kitaportal_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO kitaportal_app;
-- Tables that later migrations create get the grants by default (RLS they must enable
-- themselves with kitaportal_enable_tenant_rls).
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO kitaportal_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO kitaportal_app;
