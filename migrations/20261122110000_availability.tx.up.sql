-- Expected availability, materialised: free places per facility × age band × care scope ×
-- month for a window of months from the current one. Every write path that changes
-- capacity, contracts or offers recomputes the rows of its facilities in its own
-- transaction (availability.Refresh), so search, profile and API read the same, current
-- numbers with one index lookup per facility.
CREATE TABLE availability (
    tenant_id   uuid NOT NULL,
    facility_id uuid NOT NULL,
    age_band    text COLLATE "C" NOT NULL, -- bytewise: cheaper in every index probe
    -- The care scope asked for: places in groups of the band offering at least this many
    -- weekly hours. One row per scope of the tenant's care_scopes.
    care_hours  integer NOT NULL CHECK (care_hours BETWEEN 5 AND 60),
    month       date NOT NULL CHECK (extract(day FROM month) = 1),
    capacity    integer NOT NULL CHECK (capacity >= 0),
    -- Places still free for one more child of this band and scope; negative when the
    -- facility is over capacity.
    free        integer NOT NULL,
    -- INCLUDE makes the search's lookup an index-only scan.
    PRIMARY KEY (tenant_id, facility_id, age_band, care_hours, month) INCLUDE (capacity, free),
    FOREIGN KEY (tenant_id, facility_id) REFERENCES facility (tenant_id, id) ON DELETE CASCADE
);

-- Which window and rules the rows of a tenant were computed for. Its row is also the lock
-- that keeps a full rebuild and incremental refreshes apart: a rebuild holds it FOR
-- UPDATE, a refresh FOR SHARE.
CREATE TABLE availability_state (
    tenant_id     uuid PRIMARY KEY REFERENCES tenant (id),
    first_month   date NOT NULL CHECK (extract(day FROM first_month) = 1),
    months        integer NOT NULL CHECK (months BETWEEN 1 AND 120),
    rules_version integer NOT NULL,
    built_at      timestamptz NOT NULL DEFAULT now()
);

