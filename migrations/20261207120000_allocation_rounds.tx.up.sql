-- Central allocation rounds (issue 12, deferred_acceptance cities). A round freezes its
-- inputs once — the requests starting in its period, their ranked choices, the seats per
-- facility × age band × care scope, every child's priority inputs and a lottery seed —
-- so every run of it is reproducible. A run (the main one, a what-if on changed inputs,
-- a follow-up for freed seats) is done by the worker and stores one result row per
-- request with its explanation; publishing one run makes its offers.
CREATE TABLE allocation_round (
    tenant_id        uuid NOT NULL REFERENCES tenant (id),
    id               uuid NOT NULL,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    start_from       date NOT NULL CHECK (extract(day FROM start_from) = 1),
    start_until      date NOT NULL CHECK (extract(day FROM start_until) = 1 AND start_until > start_from),
    period           daterange GENERATED ALWAYS AS (daterange(start_from, start_until, '[)')) STORED,
    -- Requests submitted up to this moment take part.
    cut_off          timestamptz NOT NULL,
    -- The lottery numbers are drawn from this seed; recorded, so a run can be redone.
    seed             bigint NOT NULL,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'published', 'closed')),
    -- The frozen inputs: gzip-compressed JSON (round.Snapshot). A refreeze replaces it
    -- and counts the version up; runs of an older version cannot be published.
    snapshot         bytea NOT NULL,
    snapshot_version integer NOT NULL DEFAULT 1,
    requests         integer NOT NULL,
    facilities       integer NOT NULL,
    seats            integer NOT NULL,
    frozen_at        timestamptz NOT NULL,
    created_by       uuid NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    published_run    uuid,
    published_at     timestamptz,
    PRIMARY KEY (tenant_id, id),
    -- One open round per period: two rounds would hand out the same seats.
    CONSTRAINT allocation_round_one_per_period EXCLUDE USING gist (tenant_id WITH =, period WITH &&)
        WHERE (status <> 'closed')
);

CREATE TABLE allocation_run (
    tenant_id        uuid NOT NULL,
    id               uuid NOT NULL,
    round_id         uuid NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('main', 'what_if', 'follow_up')),
    label            text NOT NULL DEFAULT '' CHECK (length(label) <= 200),
    -- What a what-if changes: extra seats, a criterion's points (round.Changes).
    changes          jsonb NOT NULL DEFAULT '{}',
    snapshot_version integer NOT NULL,
    -- publishing: the worker is making the run's offers; a refusal sets it back to done
    -- with the refused requests in refused.
    status           text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed', 'publishing', 'published')),
    phase            text NOT NULL DEFAULT '' CHECK (phase IN ('', 'loading', 'matching', 'saving')),
    figures          jsonb NOT NULL DEFAULT '{}',
    error            text NOT NULL DEFAULT '',
    refused          jsonb NOT NULL DEFAULT '[]',
    created_by       uuid NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    published_at     timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, round_id) REFERENCES allocation_round (tenant_id, id) ON DELETE CASCADE
);
-- One run of a round at a time.
CREATE UNIQUE INDEX allocation_run_one_at_a_time ON allocation_run (tenant_id, round_id) WHERE status IN ('queued', 'running', 'publishing');

-- One row per request of a run: where it was placed (facility NULL: not placed), at
-- which choice, and why (round.Why, JSON). A case worker's change before publishing
-- keeps the engine's answer beside it, with the reason.
CREATE TABLE allocation_result (
    tenant_id       uuid NOT NULL,
    run_id          uuid NOT NULL,
    application_id  uuid NOT NULL,
    facility_id     uuid,
    choice          smallint NOT NULL DEFAULT 0,
    seat            text NOT NULL DEFAULT '',
    why             jsonb NOT NULL,
    -- The engine's answer, kept when a case worker changes the row.
    engine_facility uuid,
    engine_seat     text NOT NULL DEFAULT '',
    changed_reason  text CHECK (length(changed_reason) <= 500),
    changed_by      uuid,
    changed_at      timestamptz,
    offer_id        uuid,
    PRIMARY KEY (tenant_id, run_id, application_id),
    FOREIGN KEY (tenant_id, run_id) REFERENCES allocation_run (tenant_id, id) ON DELETE CASCADE,
    -- An erased request takes its results with it.
    FOREIGN KEY (tenant_id, application_id) REFERENCES application (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX allocation_result_application ON allocation_result (tenant_id, application_id);

SELECT kitaportal_enable_tenant_rls('allocation_round');
SELECT kitaportal_enable_tenant_rls('allocation_run');
SELECT kitaportal_enable_tenant_rls('allocation_result');
