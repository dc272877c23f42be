-- Foundation: time rendering, accounts, the service catalog, scheduler runs.
-- Forward-only: never edit this file once it has landed; add a new one.

-- API times are RFC 3339 UTC with milliseconds, whatever the session's time zone.
create function rfc3339(t timestamptz) returns text
    language sql immutable strict parallel safe
    as $$ select to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

create table users (
    id            uuid        not null default gen_random_uuid(),
    email         text        not null,
    name          text        not null default '',
    password_hash text        not null,
    role          text        not null default 'user',
    is_active     boolean     not null default true,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    constraint users_pkey primary key (id),
    constraint users_role_check check (role in ('user', 'operator', 'admin')),
    constraint users_email_lowercase_check check (email = lower(email))
);
create unique index users_email_key on users (email);

create table services (
    id            uuid        not null default gen_random_uuid(),
    name          text        not null,
    slug          text        not null,
    description   text        not null default '',
    status        text        not null default 'operational',
    display_order integer     not null default 0,
    tags          jsonb       not null default '{}'::jsonb,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    archived_at   timestamptz,
    constraint services_pkey primary key (id),
    constraint services_slug_key unique (slug),
    constraint services_slug_format_check check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    constraint services_status_check
        check (status in ('operational', 'degraded', 'partial_outage', 'major_outage', 'maintenance')),
    constraint services_tags_object_check check (jsonb_typeof(tags) = 'object')
);
create index services_listing_idx on services (display_order, name) where archived_at is null;

create table groups (
    id            uuid        not null default gen_random_uuid(),
    name          text        not null,
    slug          text        not null,
    description   text        not null default '',
    display_order integer     not null default 0,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    archived_at   timestamptz,
    constraint groups_pkey primary key (id),
    constraint groups_slug_key unique (slug),
    constraint groups_slug_format_check check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$')
);

create table service_groups (
    service_id uuid not null,
    group_id   uuid not null,
    constraint service_groups_pkey primary key (service_id, group_id),
    constraint service_groups_service_fkey foreign key (service_id) references services (id) on delete cascade,
    constraint service_groups_group_fkey foreign key (group_id) references groups (id) on delete cascade
);
create index service_groups_group_idx on service_groups (group_id);

-- One row per cron tick. The unique scheduled time is the claim: when several cron triggers
-- (replicas) fire for the same tick, exactly one inserts the row and does the tick's work.
create table scheduler_runs (
    id           bigint      generated always as identity,
    scheduled_at timestamptz not null,
    started_at   timestamptz not null default now(),
    details      jsonb       not null default '{}'::jsonb,
    constraint scheduler_runs_pkey primary key (id),
    constraint scheduler_runs_scheduled_at_key unique (scheduled_at)
);
