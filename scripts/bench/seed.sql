-- The benchmark's data set (scripts/bench.sh): 50 services in 5 groups and 500 past events
-- (450 resolved incidents, 50 completed maintenance windows) of three timeline entries each,
-- one every 35 hours back from now (two years), each affecting two services, with the status log they
-- would have written. Applied to a fresh, migrated database.
insert into groups (name, slug, display_order)
select 'Region ' || g, 'region-' || g, g from generate_series(1, 5) g;

insert into services (name, slug, description, display_order, created_at)
select 'Service ' || s, 'service-' || s, 'Benchmark service number ' || s, s, now() - interval '800 days'
from generate_series(1, 50) s;

insert into service_groups (service_id, group_id)
select s.id, g.id from services s join groups g on g.slug = 'region-' || (1 + (s.display_order - 1) / 10);

insert into service_status_log (service_id, from_status, to_status, source, reason, created_at, effective_status)
select id, null, 'operational', 'manual', 'created', created_at, 'operational' from services;

with numbered as (
    select e, now() - make_interval(hours => 35 * e) as at from generate_series(1, 500) e
), inserted as (
    insert into events (type, status, severity, title, description, scheduled_start_at, scheduled_end_at,
                        started_at, resolved_at, created_at, updated_at)
    select case when e % 10 = 0 then 'maintenance' else 'incident' end,
           case when e % 10 = 0 then 'completed' else 'resolved' end,
           case when e % 10 = 0 then null when e % 3 = 0 then 'major' else 'minor' end,
           'Benchmark event ' || e, 'What happened in event ' || e || ', in a sentence or two of description.',
           case when e % 10 = 0 then at end, case when e % 10 = 0 then at + interval '2 hours' end,
           at, at + interval '2 hours', at, at + interval '2 hours'
    from numbered
    returning id, type, title, started_at
)
insert into event_updates (event_id, status, message, created_at)
select i.id, u.status, u.message, i.started_at + u.offset_by
from inserted i
cross join lateral (values
    (case when i.type = 'maintenance' then 'scheduled' else 'investigating' end, 'We are looking into it.', interval '0'),
    (case when i.type = 'maintenance' then 'in_progress' else 'identified' end, 'The cause is known; a fix is on its way.', interval '1 hour'),
    (case when i.type = 'maintenance' then 'completed' else 'resolved' end, 'Everything works again.', interval '2 hours')
) as u(status, message, offset_by);

insert into event_services (event_id, service_id, status)
select e.id, s.id, case when e.type = 'maintenance' then 'maintenance' else 'partial_outage' end
from events e
join services s on s.display_order in (1 + (substring(e.title from '[0-9]+$')::int % 50),
                                       1 + ((substring(e.title from '[0-9]+$')::int + 7) % 50));

insert into service_status_log (service_id, from_status, to_status, source, reason, created_at, effective_status, event_id)
select es.service_id, 'operational', es.status, 'event', 'benchmark', e.started_at, es.status, e.id
from event_services es join events e on e.id = es.event_id
union all
select es.service_id, es.status, 'operational', 'event', 'benchmark', e.resolved_at, 'operational', e.id
from event_services es join events e on e.id = es.event_id;
