-- Catalog writes: every change of a service's status, from any source, is kept in its
-- status log, which also feeds the uptime history.
create table service_status_log (
    id          bigint      generated always as identity,
    service_id  uuid        not null,
    from_status text,
    to_status   text        not null,
    source      text        not null,
    reason      text        not null default '',
    actor_id    uuid,
    created_at  timestamptz not null default now(),
    constraint service_status_log_pkey primary key (id),
    constraint service_status_log_service_fkey foreign key (service_id) references services (id) on delete cascade,
    constraint service_status_log_source_check check (source in ('manual', 'event', 'webhook', 'scheduler')),
    constraint service_status_log_to_status_check
        check (to_status in ('operational', 'degraded', 'partial_outage', 'major_outage', 'maintenance'))
);
create index service_status_log_service_idx on service_status_log (service_id, created_at desc, id desc);

-- The history of services that existed before this migration starts from their current status.
insert into service_status_log (service_id, from_status, to_status, source, reason, created_at)
select id, null, status, 'manual', 'status at the start of the status log', created_at from services;

create index groups_listing_idx on groups (display_order, name) where archived_at is null;
