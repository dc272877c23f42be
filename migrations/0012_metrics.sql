-- /metrics: counters that outlive the stateless instances that count them (HTTP
-- requests by component, route and status class; scheduler ticks and their duration).
create table metric_counters (
    name   text   not null,
    labels text   not null default '',
    value  bigint not null default 0,
    constraint metric_counters_pkey primary key (name, labels)
);
