-- Sign-in over OpenID Connect (issue 16): a parent account is linked to an identity of
-- the city's provider by (issuer, subject), never by e-mail alone. One subject of one
-- issuer is one account of the city; an account has at most one identity per issuer.
-- verified_name and acr are what the provider last vouched for (shown to the parent).
CREATE TABLE account_identity (
    tenant_id     uuid NOT NULL REFERENCES tenant (id),
    account_id    uuid NOT NULL,
    issuer        text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 500),
    subject       text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    verified_name text NOT NULL DEFAULT '' CHECK (length(verified_name) <= 201),
    acr           text NOT NULL DEFAULT '' CHECK (length(acr) <= 200),
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, issuer, subject),
    UNIQUE (tenant_id, account_id, issuer),
    FOREIGN KEY (tenant_id, account_id) REFERENCES account (tenant_id, id) ON DELETE CASCADE
);
SELECT kitaportal_enable_tenant_rls('account_identity');

-- A started sign-in: the state (only its hash), the nonce and the PKCE verifier, kept
-- server-side for ten minutes and deleted when the callback uses it, so a state works
-- once. The browser holds the state in a cookie too (a callback from another browser is
-- refused).
CREATE TABLE oidc_login (
    tenant_id     uuid NOT NULL REFERENCES tenant (id),
    state_hash    bytea NOT NULL CHECK (length(state_hash) = 32),
    issuer        text NOT NULL,
    nonce         text NOT NULL,
    code_verifier text NOT NULL,
    next          text NOT NULL DEFAULT '/',
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, state_hash)
);
SELECT kitaportal_enable_tenant_rls('oidc_login');

-- An account created by the provider has no password (the parent may set one later
-- with "password forgotten"); password sign-in answers for it as for a wrong password.
ALTER TABLE account DROP CONSTRAINT account_check;
