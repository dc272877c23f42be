-- Maintenance that runs itself: starting and completing are switched on or off each
-- (`auto_start`, `auto_complete`; the one `auto_transition` flag becomes the first), and a
-- reminder may go out N minutes before the start, once (`reminded_at`).
alter table events rename column auto_transition to auto_start;
alter table events
    add column auto_complete         boolean     not null default true,
    add column remind_before_minutes integer,
    add column reminded_at           timestamptz,
    add constraint events_remind_before_minutes_check check (remind_before_minutes between 1 and 10080);
update events set auto_complete = auto_start;
-- What the scheduler looks at every minute: maintenance not yet done.
create index events_maintenance_open_idx on events (scheduled_start_at)
    where type = 'maintenance' and status in ('scheduled', 'in_progress');
