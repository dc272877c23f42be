-- Incoming webhooks: monitoring systems (Prometheus Alertmanager, Grafana alerting, or
-- anything that posts the generic format) open and resolve incidents through an integration an
-- admin configures: which label names the service, how severities map, the title.
create table integrations (
    id                  uuid        not null default gen_random_uuid(),
    name                text        not null,
    slug                text        not null,
    kind                text        not null,
    -- The HMAC-SHA256 key of signed deliveries (shown once; kept to verify signatures).
    secret              text        not null,
    service_label       text        not null default 'service',
    fallback_service_id uuid,
    severity_label      text        not null default 'severity',
    -- Label value → {"severity": minor|major|critical, "status": a service status}.
    severity_map        jsonb       not null,
    default_severity    text        not null default 'major',
    title_template      text        not null default '{{alertname}}',
    notify_subscribers  boolean     not null default true,
    enabled             boolean     not null default true,
    created_at          timestamptz not null,
    updated_at          timestamptz not null,
    constraint integrations_pkey primary key (id),
    constraint integrations_slug_key unique (slug),
    constraint integrations_kind_check check (kind in ('alertmanager', 'grafana', 'generic')),
    constraint integrations_default_severity_check check (default_severity in ('minor', 'major', 'critical')),
    constraint integrations_fallback_service_fkey
        foreign key (fallback_service_id) references services (id) on delete set null
);

-- Each alert an integration has seen, by its fingerprint: the state it was last in, so that a
-- repeated delivery changes nothing, and the incident it went to.
create table integration_alerts (
    integration_id uuid        not null,
    fingerprint    text        not null,
    status         text        not null,
    service_id     uuid        not null,
    event_id       uuid,
    title          text        not null,
    updated_at     timestamptz not null,
    constraint integration_alerts_pkey primary key (integration_id, fingerprint),
    constraint integration_alerts_status_check check (status in ('firing', 'resolved')),
    constraint integration_alerts_integration_fkey
        foreign key (integration_id) references integrations (id) on delete cascade,
    constraint integration_alerts_service_fkey foreign key (service_id) references services (id) on delete cascade,
    constraint integration_alerts_event_fkey foreign key (event_id) references events (id) on delete set null
);
create index integration_alerts_event_idx on integration_alerts (event_id) where status = 'firing';

-- The integration that opened an incident (its alerts join it while it is open).
alter table events
    add column integration_id uuid,
    add constraint events_integration_fkey foreign key (integration_id) references integrations (id) on delete set null;
create index events_integration_open_idx on events (integration_id)
    where integration_id is not null and status not in ('resolved', 'completed');

-- Integrations act in their own name.
alter table audit_log
    drop constraint audit_log_actor_type_check,
    add constraint audit_log_actor_type_check check (actor_type in ('user', 'api_key', 'anonymous', 'system', 'integration'));

-- Timeline entries written in one request share their time (an alert delivery that opens an
-- incident and notes a second alert): they are ordered as written.
alter table event_updates add column seq bigint generated always as identity;
