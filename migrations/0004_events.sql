-- Events: incidents and maintenance, their affected services, timeline and change
-- history, templates; and the derived (effective) status of services.

create table events (
    id                 uuid        not null default gen_random_uuid(),
    type               text        not null,
    status             text        not null,
    severity           text,
    title              text        not null,
    description        text        not null default '',
    notify_subscribers boolean     not null default false,
    scheduled_start_at timestamptz,
    scheduled_end_at   timestamptz,
    -- Maintenance moves itself to in_progress and completed at its window (the scheduler).
    auto_transition    boolean     not null default true,
    started_at         timestamptz,
    monitoring_at      timestamptz,
    resolved_at        timestamptz,
    created_by         uuid,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    constraint events_pkey primary key (id),
    constraint events_type_check check (type in ('incident', 'maintenance')),
    constraint events_status_check check (
        (type = 'incident' and status in ('investigating', 'identified', 'monitoring', 'resolved'))
        or (type = 'maintenance' and status in ('scheduled', 'in_progress', 'completed'))),
    constraint events_severity_check check (
        (type = 'incident' and severity in ('minor', 'major', 'critical'))
        or (type = 'maintenance' and severity is null)),
    constraint events_window_check check (
        type = 'incident'
        or (scheduled_start_at is not null and scheduled_end_at is not null and scheduled_start_at < scheduled_end_at))
);
create index events_created_idx on events (created_at desc, id desc);
create index events_open_idx on events (type, status) where status not in ('resolved', 'completed');

create table event_services (
    event_id   uuid not null,
    service_id uuid not null,
    status     text not null,
    constraint event_services_pkey primary key (event_id, service_id),
    constraint event_services_event_fkey foreign key (event_id) references events (id) on delete cascade,
    constraint event_services_service_fkey foreign key (service_id) references services (id) on delete cascade,
    constraint event_services_status_check
        check (status in ('operational', 'degraded', 'partial_outage', 'major_outage', 'maintenance'))
);
create index event_services_service_idx on event_services (service_id);

create table event_updates (
    id                 uuid        not null default gen_random_uuid(),
    event_id           uuid        not null,
    status             text        not null,
    message            text        not null,
    notify_subscribers boolean     not null default false,
    created_by         uuid,
    created_at         timestamptz not null default now(),
    constraint event_updates_pkey primary key (id),
    constraint event_updates_event_fkey foreign key (event_id) references events (id) on delete cascade
);
create index event_updates_event_idx on event_updates (event_id, created_at desc);

-- Every change of the affected set, with the update that made it.
create table event_changes (
    id          bigint      generated always as identity,
    event_id    uuid        not null,
    update_id   uuid,
    kind        text        not null,
    service_id  uuid        not null,
    from_status text,
    to_status   text,
    created_at  timestamptz not null default now(),
    constraint event_changes_pkey primary key (id),
    constraint event_changes_event_fkey foreign key (event_id) references events (id) on delete cascade,
    constraint event_changes_kind_check check (kind in ('added', 'removed', 'status_changed'))
);
create index event_changes_event_idx on event_changes (event_id, id);

-- An event is active while it is open: an incident until resolved; maintenance only while in
-- progress (scheduled maintenance affects nothing yet).
create function event_is_active(event_type text, event_status text) returns boolean
    language sql immutable parallel safe
    as $$ select (event_type = 'incident' and event_status <> 'resolved')
              or (event_type = 'maintenance' and event_status = 'in_progress') $$;

create function service_status_rank(status text) returns integer
    language sql immutable parallel safe
    as $$ select case status when 'major_outage' then 4 when 'partial_outage' then 3
                             when 'degraded' then 2 when 'maintenance' then 1 else 0 end $$;

-- The status the public sees: the worst status the service has in any active event, else the
-- status an admin stored.
create function service_effective_status(service uuid, stored text) returns text
    language sql stable parallel safe
    as $$ select coalesce((select es.status from event_services es join events e on e.id = es.event_id
                           where es.service_id = service and event_is_active(e.type, e.status)
                           order by service_status_rank(es.status) desc limit 1), stored) $$;

create function service_has_active_events(service uuid) returns boolean
    language sql stable parallel safe
    as $$ select exists (select 1 from event_services es join events e on e.id = es.event_id
                         where es.service_id = service and event_is_active(e.type, e.status)) $$;

create table templates (
    id             uuid        not null default gen_random_uuid(),
    slug           text        not null,
    type           text        not null,
    title_template text        not null,
    body_template  text        not null default '',
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    constraint templates_pkey primary key (id),
    constraint templates_slug_key unique (slug),
    constraint templates_type_check check (type in ('incident', 'maintenance'))
);
