DROP TABLE IF EXISTS oidc_login;
DROP TABLE IF EXISTS account_identity;
ALTER TABLE account ADD CONSTRAINT account_check CHECK (status <> 'active' OR password_hash IS NOT NULL) NOT VALID;
