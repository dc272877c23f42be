-- The public face: the effective status after each status-log entry (what the uptime
-- bars and reports are computed from), cancelled maintenance windows (iCal keeps announcing a
-- cancelled window as STATUS:CANCELLED after its row is gone), and the indexes the snapshot reads.

-- The status the public saw from this entry on: an entry is written after the change it logs,
-- so the effective status is computed then, from the services and events tables. Entries from
-- before this migration are taken at their new status (the best that can be known now).
alter table service_status_log add column effective_status text;
update service_status_log set effective_status = to_status;
alter table service_status_log
    alter column effective_status set not null,
    add constraint service_status_log_effective_status_check
        check (effective_status in ('operational', 'degraded', 'partial_outage', 'major_outage', 'maintenance'));

create table cancelled_maintenance (
    event_id           uuid        not null,
    title              text        not null,
    description        text        not null default '',
    scheduled_start_at timestamptz not null,
    scheduled_end_at   timestamptz not null,
    -- The iCal SEQUENCE the cancellation is published with (one past the event's last).
    sequence           integer     not null,
    created_at         timestamptz not null,
    cancelled_at       timestamptz not null,
    constraint cancelled_maintenance_pkey primary key (event_id)
);
create index cancelled_maintenance_end_idx on cancelled_maintenance (scheduled_end_at desc);

-- Recent events of each type, newest first (incidents.json, the feeds, /status).
create index events_type_created_idx on events (type, created_at desc, id);
