ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE ON SEQUENCES FROM kitaportal_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM kitaportal_app;

DROP TABLE IF EXISTS operator_audit_event;
DROP TABLE IF EXISTS audit_event;
DROP FUNCTION IF EXISTS audit_append_only();
DROP TABLE IF EXISTS authz_policy_version;
DROP TABLE IF EXISTS casbin_rule;
DROP FUNCTION IF EXISTS casbin_rule_changed();
DROP TABLE IF EXISTS operator_session;
DROP TABLE IF EXISTS auth_session;
DROP TABLE IF EXISTS support_access;
DROP TABLE IF EXISTS operator;
DROP TABLE IF EXISTS staff_role;
DROP TABLE IF EXISTS recovery_code;
DROP TABLE IF EXISTS account_token;
DROP TABLE IF EXISTS account;
DROP FUNCTION IF EXISTS kitaportal_enable_tenant_rls(regclass);

-- The remaining tables leave row-level security and lose the app role's grants. The role
-- itself stays: roles are cluster-wide and other databases use it.
DO $$
DECLARE t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass FROM pg_class c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
    LOOP
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', t);
        EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;
DROP POLICY IF EXISTS tenant_isolation ON tenant;
ALTER TABLE tenant DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM kitaportal_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM kitaportal_app;
REVOKE USAGE ON SCHEMA public FROM kitaportal_app;
