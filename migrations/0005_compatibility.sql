-- What clients of the old service rely on (README, "Coming from the old service"): first and
-- last names, a flag asking for a new password, the event behind a status change, an event's
-- template and chosen groups, and who made each change of an affected set, why.

alter table users
    add column first_name text not null default '',
    add column last_name text not null default '',
    -- Set when an admin chose the password (POST /users/{id}/reset-password with new_password);
    -- cleared when the account's owner sets one.
    add column must_change_password boolean not null default false;
create index users_created_idx on users (created_at desc, id);

alter table service_status_log
    add column event_id uuid,
    add constraint service_status_log_event_fkey foreign key (event_id) references events (id) on delete set null;

alter table events
    add column template_id uuid,
    add constraint events_template_fkey foreign key (template_id) references templates (id) on delete set null;

-- The groups an event was declared (or updated) with, and the status they gave their services.
create table event_groups (
    event_id uuid not null,
    group_id uuid not null,
    status   text not null,
    constraint event_groups_pkey primary key (event_id, group_id),
    constraint event_groups_event_fkey foreign key (event_id) references events (id) on delete cascade,
    constraint event_groups_group_fkey foreign key (group_id) references groups (id) on delete cascade,
    constraint event_groups_status_check
        check (status in ('operational', 'degraded', 'partial_outage', 'major_outage', 'maintenance'))
);

alter table event_changes
    add column group_id uuid,
    add column reason text not null default '',
    add column created_by uuid;

create index templates_created_idx on templates (created_at desc, id);
