DROP TRIGGER IF EXISTS outbox_notify ON outbox;
DROP FUNCTION IF EXISTS outbox_notify();
DROP TABLE IF EXISTS import_job, inbox_message, family_link, application_consent;
DO $$
DECLARE s text;
BEGIN
    FOR s IN SELECT c.relname FROM pg_class c WHERE c.relkind = 'S' AND c.relname LIKE 'application\_reference\_%' LOOP
        EXECUTE format('DROP SEQUENCE %I', s);
    END LOOP;
END
$$;
DROP FUNCTION IF EXISTS kitaportal_next_reference();
DROP INDEX IF EXISTS application_status;
DROP INDEX IF EXISTS application_one_active;
UPDATE application_choice SET status = 'in_review' WHERE status = 'proposed';
ALTER TABLE application_choice DROP CONSTRAINT IF EXISTS application_choice_note_len;
ALTER TABLE application_choice DROP CONSTRAINT application_choice_status_check;
ALTER TABLE application_choice ADD CONSTRAINT application_choice_status_check CHECK (status IN (
    'pending', 'in_review', 'paused', 'refused', 'offered', 'accepted', 'declined', 'withdrawn'));
ALTER TABLE application
    DROP CONSTRAINT IF EXISTS application_ticket_fk,
    DROP COLUMN IF EXISTS start_period,
    DROP COLUMN IF EXISTS declared_at,
    DROP COLUMN IF EXISTS ticket_id,
    DROP COLUMN IF EXISTS created_by_staff,
    DROP COLUMN IF EXISTS withdrawn_reason;
DROP TABLE IF EXISTS access_ticket, child_duplicate;
DROP INDEX IF EXISTS child_dedupe;
ALTER TABLE child
    DROP CONSTRAINT IF EXISTS child_merged_into_fk,
    DROP CONSTRAINT IF EXISTS child_special_needs_consent,
    DROP CONSTRAINT IF EXISTS child_first_name_len,
    DROP CONSTRAINT IF EXISTS child_last_name_len,
    DROP COLUMN IF EXISTS special_needs,
    DROP COLUMN IF EXISTS special_needs_consent_at,
    DROP COLUMN IF EXISTS dedupe_key,
    DROP COLUMN IF EXISTS merged_into;
ALTER TABLE family DROP COLUMN IF EXISTS source, DROP COLUMN IF EXISTS created_by;
ALTER TABLE guardian
    DROP CONSTRAINT IF EXISTS guardian_account_fk,
    DROP CONSTRAINT IF EXISTS guardian_first_name_len,
    DROP CONSTRAINT IF EXISTS guardian_last_name_len;
DROP INDEX IF EXISTS guardian_account;
