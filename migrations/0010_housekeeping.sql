-- Housekeeping: daily jobs, each claimed once per day across replicas, and the
-- per-service daily uptime roll-ups the 90-day bars and the uptime report read for past days.
create table housekeeping_runs (
    job        text        not null,
    period     date        not null,
    started_at timestamptz not null,
    details    jsonb       not null default '{}'::jsonb,
    constraint housekeeping_runs_pkey primary key (job, period)
);

-- A whole UTC day of a service: the seconds it spent in each status (observed time only).
create table service_uptime_days (
    service_id uuid        not null,
    day        date        not null,
    seconds    jsonb       not null,
    rolled_at  timestamptz not null,
    constraint service_uptime_days_pkey primary key (service_id, day),
    constraint service_uptime_days_service_fkey foreign key (service_id) references services (id) on delete cascade
);
