-- Provider portal (Trägerportal): closures of a facility, photos kept in file storage
-- (internal/platform/storage) instead of the database, and contracts that remember where
-- they came from (the provider's own reference, an import) and which contract they
-- continue after a change of care scope.

-- Days a facility is closed (summer closure, team days), shown on the profile. One
-- closure never overlaps another of the same facility.
CREATE TABLE facility_closure (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL,
    facility_id uuid NOT NULL,
    first_day   date NOT NULL,
    last_day    date NOT NULL,
    reason      text NOT NULL DEFAULT '' CHECK (length(reason) <= 200),
    days        daterange GENERATED ALWAYS AS (daterange(first_day, last_day, '[]')) STORED,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK (last_day >= first_day),
    FOREIGN KEY (tenant_id, facility_id) REFERENCES facility (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT facility_closure_no_overlap EXCLUDE USING gist (tenant_id WITH =, facility_id WITH =, days WITH &&)
);
SELECT kitaportal_enable_tenant_rls('facility_closure');

-- Uploaded photos live in file storage under storage_key (the picture) and thumb_key (its
-- thumbnail); the demo's drawings stay in data.
ALTER TABLE facility_photo
    ALTER COLUMN data DROP NOT NULL,
    ADD COLUMN storage_key text CHECK (storage_key IS NULL OR length(storage_key) <= 512),
    ADD COLUMN thumb_key text CHECK (thumb_key IS NULL OR length(thumb_key) <= 512),
    ADD CONSTRAINT facility_photo_content CHECK (data IS NOT NULL OR storage_key IS NOT NULL);

-- A contract's group belongs to the contract's facility: the database itself refuses a
-- contract at one Kita placed in a group of another.
ALTER TABLE facility_group ADD CONSTRAINT facility_group_of_facility UNIQUE (tenant_id, facility_id, id);
ALTER TABLE contract
    ADD CONSTRAINT contract_group_of_facility FOREIGN KEY (tenant_id, facility_id, group_id)
        REFERENCES facility_group (tenant_id, facility_id, id),
    -- A change of care scope ends the contract and continues it in a new one.
    ADD COLUMN replaces_id uuid,
    ADD CONSTRAINT contract_replaces FOREIGN KEY (tenant_id, replaces_id) REFERENCES contract (tenant_id, id),
    -- The provider's own number of the contract (from their software or an import).
    ADD COLUMN reference text CHECK (reference IS NULL OR length(reference) BETWEEN 1 AND 100);
-- A reference names one live contract of a facility, so importing a file twice adds nothing.
CREATE UNIQUE INDEX contract_reference ON contract (tenant_id, facility_id, reference)
    WHERE reference IS NOT NULL AND status <> 'cancelled';
