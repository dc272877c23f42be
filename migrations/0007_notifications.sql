-- Subscriptions and notifications: channels (an account's, or a public subscriber's
-- e-mail), what each channel subscribes to, the messages events produce, and the outbox rows
-- that deliver each message on each channel exactly once.

create table channels (
    id                   uuid        not null default gen_random_uuid(),
    -- The account it belongs to; null for a public subscriber (an e-mail signed up from the page).
    user_id              uuid,
    type                 text        not null,
    -- The address: an e-mail address, a Telegram chat id (learned when the chat confirms), a URL.
    target               text        not null default '',
    -- Webhook channels: the HMAC-SHA256 signing key.
    secret               text,
    language             text        not null default 'en',
    enabled              boolean     not null default true,
    is_default           boolean     not null default false,
    subscribe_all        boolean     not null default true,
    digest               text        not null default 'immediate',
    verified_at          timestamptz,
    -- Verification: the 6-digit e-mail code and the link / deep-link token, both as SHA-256.
    verify_code_hash     text,
    verify_token_hash    text,
    verify_expires_at    timestamptz,
    verify_attempts      integer     not null default 0,
    verify_sent_at       timestamptz,
    -- Why the channel stopped receiving (a bounce, a blocked bot, a webhook that is gone).
    disabled_reason      text,
    consecutive_failures integer     not null default 0,
    last_digest_at       timestamptz,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    constraint channels_pkey primary key (id),
    constraint channels_user_fkey foreign key (user_id) references users (id) on delete cascade,
    constraint channels_type_check check (type in ('email', 'telegram', 'webhook', 'mattermost')),
    constraint channels_language_check check (language in ('en', 'ru')),
    constraint channels_digest_check check (digest in ('immediate', 'daily', 'weekly')),
    constraint channels_public_email_check check (user_id is not null or type = 'email')
);
-- One public subscription per address; one channel per account and address.
create unique index channels_public_email_key on channels (lower(target)) where user_id is null;
create unique index channels_user_target_key on channels (user_id, type, lower(target))
    where user_id is not null and target <> '';
create unique index channels_verify_token_key on channels (verify_token_hash) where verify_token_hash is not null;
create index channels_user_idx on channels (user_id, created_at desc);
create index channels_deliverable_idx on channels (id) where enabled and verified_at is not null;

create table channel_services (
    channel_id uuid not null,
    service_id uuid not null,
    constraint channel_services_pkey primary key (channel_id, service_id),
    constraint channel_services_channel_fkey foreign key (channel_id) references channels (id) on delete cascade,
    constraint channel_services_service_fkey foreign key (service_id) references services (id) on delete cascade
);
create index channel_services_service_idx on channel_services (service_id);

-- A group subscription covers the services the group has when a message goes out.
create table channel_groups (
    channel_id uuid not null,
    group_id   uuid not null,
    constraint channel_groups_pkey primary key (channel_id, group_id),
    constraint channel_groups_channel_fkey foreign key (channel_id) references channels (id) on delete cascade,
    constraint channel_groups_group_fkey foreign key (group_id) references groups (id) on delete cascade
);
create index channel_groups_group_idx on channel_groups (group_id);

-- What an event write said, once: every channel's delivery renders it in its own form.
create table notification_messages (
    id         uuid        not null default gen_random_uuid(),
    kind       text        not null,
    event_id   uuid,
    update_id  uuid,
    payload    jsonb       not null,
    created_at timestamptz not null,
    constraint notification_messages_pkey primary key (id),
    constraint notification_messages_event_fkey foreign key (event_id) references events (id) on delete set null
);
create index notification_messages_event_idx on notification_messages (event_id, created_at desc);

-- The outbox becomes the delivery queue: a row per message and channel (or one direct e-mail,
-- such as a password reset), claimed with a lease, retried with back-off, dead after N tries.
-- A message reaches a channel at most once: (message_id, channel_id) is unique (direct rows,
-- with no message, are each their own).
-- No foreign keys on message_id and channel_id: an event write inserts a row per subscriber in
-- its own transaction, and the two referential-integrity triggers per row were 40 % of a
-- 10,000-subscriber fan-out. Removing a channel cancels what it had waiting (in the same
-- statement's transaction), and the engine cancels a row whose channel is gone all the same.
alter table notification_outbox
    add column message_id      uuid,
    add column channel_id      uuid,
    add column language        text        not null default 'en',
    add column attempts        integer     not null default 0,
    add column next_attempt_at timestamptz,
    add column leased_until    timestamptz,
    add column last_error      text,
    add column sent_at         timestamptz,
    add column updated_at      timestamptz,
    -- The order rows were queued in (ids are random): what is due is sent in that order.
    add column seq             bigint      generated always as identity,
    add constraint notification_outbox_delivery_key unique (message_id, channel_id);
update notification_outbox set next_attempt_at = created_at, updated_at = created_at;
alter table notification_outbox
    alter column next_attempt_at set not null,
    alter column updated_at set not null,
    drop constraint notification_outbox_channel_check,
    add constraint notification_outbox_channel_check
        check (channel in ('email', 'telegram', 'webhook', 'mattermost')),
    drop constraint notification_outbox_status_check,
    add constraint notification_outbox_status_check
        check (status in ('pending', 'sending', 'sent', 'dead', 'held', 'digested', 'cancelled'));
drop index notification_outbox_pending_idx;
create index notification_outbox_due_idx on notification_outbox (next_attempt_at, seq) where status in ('pending', 'sending');
create index notification_outbox_held_idx on notification_outbox (channel_id) where status = 'held';
create index notification_outbox_listing_idx on notification_outbox (created_at desc, id);

-- One-time codes a public subscriber asks for to manage their subscription.
create table subscriber_codes (
    id         uuid        not null default gen_random_uuid(),
    channel_id uuid        not null,
    code_hash  text        not null,
    expires_at timestamptz not null,
    used_at    timestamptz,
    created_at timestamptz not null,
    constraint subscriber_codes_pkey primary key (id),
    constraint subscriber_codes_channel_fkey foreign key (channel_id) references channels (id) on delete cascade,
    constraint subscriber_codes_code_key unique (code_hash)
);

-- Delivery trouble the operators were told of, one row per open episode.
create table delivery_alerts (
    kind       text        not null,
    opened_at  timestamptz not null,
    detail     jsonb       not null,
    constraint delivery_alerts_pkey primary key (kind),
    constraint delivery_alerts_kind_check check (kind in ('stalled', 'dead_letters'))
);
