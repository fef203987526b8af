-- Pre-registration (Vormerkung): families linked to parent accounts, children with
-- consented special needs and duplicate flags, applications with their start period,
-- reference numbers, walk-in consent, linking codes, out-of-town tickets, the in-portal
-- inbox and background imports.

-- A parent account belongs to at most one family of its city (the family it manages).
CREATE UNIQUE INDEX guardian_account ON guardian (tenant_id, user_id) WHERE user_id IS NOT NULL;
ALTER TABLE guardian
    ADD CONSTRAINT guardian_account_fk FOREIGN KEY (tenant_id, user_id) REFERENCES account (tenant_id, id) ON DELETE SET NULL (user_id),
    ADD CONSTRAINT guardian_first_name_len CHECK (length(first_name) <= 100),
    ADD CONSTRAINT guardian_last_name_len CHECK (length(last_name) <= 100);

ALTER TABLE family
    ADD COLUMN source     text NOT NULL DEFAULT 'online' CHECK (source IN ('online', 'walk_in', 'import')),
    ADD COLUMN created_by uuid; -- the staff account that entered a walk-in or imported family

-- Special needs are health data: kept only with the guardians' explicit consent, never
-- logged or audited in clear. dedupe_key (normalised names and birth date) finds the
-- same child entered twice; merged_into points from a duplicate to the record kept.
ALTER TABLE child
    ADD COLUMN special_needs            text NOT NULL DEFAULT '' CHECK (length(special_needs) <= 2000),
    ADD COLUMN special_needs_consent_at timestamptz,
    ADD COLUMN dedupe_key               text NOT NULL DEFAULT '',
    ADD COLUMN merged_into              uuid,
    ADD CONSTRAINT child_special_needs_consent CHECK (special_needs = '' OR special_needs_consent_at IS NOT NULL),
    ADD CONSTRAINT child_first_name_len CHECK (length(first_name) BETWEEN 1 AND 100),
    ADD CONSTRAINT child_last_name_len CHECK (length(last_name) BETWEEN 1 AND 100),
    ADD CONSTRAINT child_merged_into_fk FOREIGN KEY (tenant_id, merged_into) REFERENCES child (tenant_id, id) ON DELETE SET NULL (merged_into);
CREATE INDEX child_dedupe ON child (tenant_id, dedupe_key) WHERE merged_into IS NULL;

-- A possible duplicate: two child records that look like the same child. Staff decide:
-- merge (the duplicate's requests end, the record points to the one kept) or dismiss.
CREATE TABLE child_duplicate (
    tenant_id      uuid NOT NULL,
    id             uuid NOT NULL,
    child_id       uuid NOT NULL, -- the newer record
    other_child_id uuid NOT NULL, -- the record it resembles
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'merged', 'dismissed')),
    detected_at    timestamptz NOT NULL DEFAULT now(),
    resolved_at    timestamptz,
    resolved_by    uuid,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, child_id, other_child_id),
    CHECK (child_id <> other_child_id),
    FOREIGN KEY (tenant_id, child_id) REFERENCES child (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, other_child_id) REFERENCES child (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX child_duplicate_open ON child_duplicate (tenant_id, detected_at) WHERE status = 'open';

-- Out-of-town tickets (Zugangsberechtigung, Leipzig): a family from outside asks for one
-- child and one Kita year; a case worker grants within the yearly quota per age band.
CREATE TABLE access_ticket (
    tenant_id         uuid NOT NULL,
    id                uuid NOT NULL,
    family_id         uuid NOT NULL,
    child_id          uuid NOT NULL,
    kita_year         date NOT NULL, -- first day of the Kita year the ticket is for
    age_band          text NOT NULL,
    reason            text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    planned_move_date date,
    status            text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'granted', 'refused', 'withdrawn')),
    requested_by      uuid,
    requested_at      timestamptz NOT NULL DEFAULT now(),
    decided_by        uuid,
    decided_at        timestamptz,
    decision_note     text NOT NULL DEFAULT '' CHECK (length(decision_note) <= 2000),
    valid_until       date,
    PRIMARY KEY (tenant_id, id),
    CHECK (status <> 'granted' OR valid_until IS NOT NULL),
    FOREIGN KEY (tenant_id, family_id) REFERENCES family (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, child_id) REFERENCES child (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX access_ticket_quota ON access_ticket (tenant_id, kita_year, age_band) WHERE status = 'granted';
CREATE INDEX access_ticket_child ON access_ticket (tenant_id, child_id);
-- One open or granted ticket per child and Kita year.
CREATE UNIQUE INDEX access_ticket_once ON access_ticket (tenant_id, child_id, kita_year) WHERE status IN ('requested', 'granted');

-- Applications: the Kita year of the desired start (start_period) makes "one active
-- application per child and start period" a constraint, which also turns a double click
-- or two tabs into one application.
ALTER TABLE application
    ADD COLUMN start_period     date,
    ADD COLUMN declared_at      timestamptz, -- the family declared its criteria answers true
    ADD COLUMN ticket_id        uuid,
    ADD COLUMN created_by_staff uuid,
    ADD COLUMN withdrawn_reason text NOT NULL DEFAULT '' CHECK (length(withdrawn_reason) <= 500),
    ADD CONSTRAINT application_ticket_fk FOREIGN KEY (tenant_id, ticket_id) REFERENCES access_ticket (tenant_id, id) ON DELETE SET NULL (ticket_id);
UPDATE application SET start_period = date_trunc('year', start_date)::date WHERE start_period IS NULL;
ALTER TABLE application ALTER COLUMN start_period SET NOT NULL;
CREATE UNIQUE INDEX application_one_active ON application (tenant_id, child_id, start_period)
    WHERE status IN ('draft', 'submitted', 'in_review', 'offered', 'accepted');
CREATE INDEX application_status ON application (tenant_id, status, submitted_at);

-- A facility in decentral mode may propose a place (the offer itself follows); the
-- note of a refusal is its reason.
ALTER TABLE application_choice DROP CONSTRAINT application_choice_status_check;
ALTER TABLE application_choice ADD CONSTRAINT application_choice_status_check CHECK (status IN (
    'pending', 'in_review', 'proposed', 'paused', 'refused', 'offered', 'accepted', 'declined', 'withdrawn'));
ALTER TABLE application_choice ADD CONSTRAINT application_choice_note_len CHECK (length(note) <= 1000);

-- Reference numbers: LEI-2026-000042. The number comes from a sequence per city, so
-- filing requests never waits on a counter row (a sequence is not rolled back: a
-- refused submission may leave a gap, which is fine for a reference). The sequence is
-- created on first use by this function, which runs as its owner; the tenant is the one
-- of the calling transaction.
CREATE FUNCTION kitaportal_next_reference() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
DECLARE
    tenant uuid := nullif(current_setting('app.tenant_id', true), '')::uuid;
    seq text;
BEGIN
    IF tenant IS NULL THEN
        RAISE EXCEPTION 'kitaportal_next_reference outside a tenant transaction';
    END IF;
    seq := 'application_reference_' || replace(tenant::text, '-', '');
    BEGIN
        RETURN nextval(seq);
    EXCEPTION WHEN undefined_table THEN
        BEGIN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', seq);
        EXCEPTION WHEN duplicate_table OR unique_violation THEN
            NULL; -- created by a concurrent first submission
        END;
        RETURN nextval(seq);
    END;
END
$$;
REVOKE ALL ON FUNCTION kitaportal_next_reference() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kitaportal_next_reference() TO kitaportal_app;

-- The parents' consent to a walk-in registration entered by staff: who gave it, when,
-- how, and who recorded it.
CREATE TABLE application_consent (
    tenant_id      uuid NOT NULL,
    application_id uuid NOT NULL,
    given_by       text NOT NULL CHECK (length(given_by) BETWEEN 1 AND 200),
    given_at       timestamptz NOT NULL,
    method         text NOT NULL CHECK (method IN ('signed_form', 'in_person', 'phone')),
    note           text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    recorded_by    uuid NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, application_id),
    FOREIGN KEY (tenant_id, application_id) REFERENCES application (tenant_id, id) ON DELETE CASCADE
);

-- Linking codes: a family entered at a facility (walk-in) or a second guardian's
-- invitation is taken over by a parent account with a single-use code.
CREATE TABLE family_link (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL,
    family_id  uuid NOT NULL,
    purpose    text NOT NULL CHECK (purpose IN ('walk_in', 'guardian_invite')),
    code_hash  bytea NOT NULL,
    email      citext,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    used_by    uuid,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, code_hash),
    FOREIGN KEY (tenant_id, family_id) REFERENCES family (tenant_id, id) ON DELETE CASCADE
);

-- The in-portal inbox: every mail about a request also lands here, and staff get their
-- queue notices (Tagespflege requests for a district's Fachberatung).
CREATE TABLE inbox_message (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL,
    account_id uuid NOT NULL,
    kind       text NOT NULL,
    subject    text NOT NULL CHECK (length(subject) <= 300),
    body       text NOT NULL CHECK (length(body) <= 10000),
    link       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES account (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX inbox_message_account ON inbox_message (tenant_id, account_id, created_at DESC);

-- Background imports (Leipzig's paper waitlists): the file, its progress and the rows
-- refused with their reasons. A dry run checks every row and writes nothing else.
CREATE TABLE import_job (
    tenant_id   uuid NOT NULL REFERENCES tenant (id),
    id          uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('waitlist')),
    dry_run     boolean NOT NULL,
    status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    file_name   text NOT NULL CHECK (length(file_name) <= 255),
    content     bytea,
    total       integer NOT NULL DEFAULT 0,
    processed   integer NOT NULL DEFAULT 0,
    imported    integer NOT NULL DEFAULT 0,
    refused     jsonb NOT NULL DEFAULT '[]',
    error       text NOT NULL DEFAULT '',
    created_by  uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    PRIMARY KEY (tenant_id, id)
);

-- The outbox relay wakes on NOTIFY after each commit; a statement trigger sends it, so
-- recording a job is one statement (NOTIFY is transactional and collapses repeats).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox_new', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

SELECT kitaportal_enable_tenant_rls('child_duplicate');
SELECT kitaportal_enable_tenant_rls('access_ticket');
SELECT kitaportal_enable_tenant_rls('application_consent');
SELECT kitaportal_enable_tenant_rls('family_link');
SELECT kitaportal_enable_tenant_rls('inbox_message');
SELECT kitaportal_enable_tenant_rls('import_job');
