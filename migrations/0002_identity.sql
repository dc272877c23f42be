-- Identity and access: sessions, one-time tokens, TOTP, API keys, the audit log,
-- rate-limit counters, and the notification outbox the password-reset e-mail is queued in.

-- Access tokens name their session family (`sid`), and a revoked family refuses its access
-- tokens at once: logout, password change, reset and deactivation revoke families.
alter table users
    add column totp_secret text,
    add column totp_enabled boolean not null default false,
    -- The last TOTP time step accepted: each code works once (RFC 6238 section 5.2).
    add column totp_last_step bigint,
    add column last_login_at timestamptz,
    add column deactivated_at timestamptz,
    add constraint users_totp_secret_check check (not totp_enabled or totp_secret is not null);

-- One row per refresh token. A family is one login and its chain of rotations: presenting a
-- spent (rotated) token again revokes the whole family.
create table sessions (
    id         uuid        not null default gen_random_uuid(),
    family_id  uuid        not null,
    user_id    uuid        not null,
    token_hash text        not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    rotated_at timestamptz,
    revoked_at timestamptz,
    constraint sessions_pkey primary key (id),
    constraint sessions_token_hash_key unique (token_hash),
    constraint sessions_user_fkey foreign key (user_id) references users (id) on delete cascade
);
create index sessions_family_idx on sessions (family_id);
create index sessions_user_live_idx on sessions (user_id) where revoked_at is null;

-- Single-use secrets sent out of band: password reset links, the second step of a login.
create table one_time_tokens (
    id         uuid        not null default gen_random_uuid(),
    user_id    uuid        not null,
    purpose    text        not null,
    token_hash text        not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at    timestamptz,
    attempts   integer     not null default 0,
    constraint one_time_tokens_pkey primary key (id),
    constraint one_time_tokens_token_hash_key unique (token_hash),
    constraint one_time_tokens_purpose_check check (purpose in ('password_reset', 'mfa_login')),
    constraint one_time_tokens_user_fkey foreign key (user_id) references users (id) on delete cascade
);

create table recovery_codes (
    user_id   uuid        not null,
    code_hash text        not null,
    used_at   timestamptz,
    constraint recovery_codes_pkey primary key (user_id, code_hash),
    constraint recovery_codes_user_fkey foreign key (user_id) references users (id) on delete cascade
);

create table api_keys (
    id           uuid        not null default gen_random_uuid(),
    name         text        not null,
    prefix       text        not null,
    secret_hash  text        not null,
    role         text        not null,
    scopes       text[]      not null default '{}',
    expires_at   timestamptz,
    last_used_at timestamptz,
    created_by   uuid,
    created_at   timestamptz not null default now(),
    revoked_at   timestamptz,
    constraint api_keys_pkey primary key (id),
    constraint api_keys_prefix_key unique (prefix),
    constraint api_keys_role_check check (role in ('user', 'operator', 'admin')),
    constraint api_keys_created_by_fkey foreign key (created_by) references users (id) on delete set null
);

create table audit_log (
    id          bigint      generated always as identity,
    created_at  timestamptz not null default now(),
    actor_type  text        not null,
    actor_id    uuid,
    actor_label text        not null default '',
    action      text        not null,
    entity_type text        not null,
    entity_id   text,
    before      jsonb,
    after       jsonb,
    request_id  text        not null default '',
    ip          text,
    constraint audit_log_pkey primary key (id),
    constraint audit_log_actor_type_check check (actor_type in ('user', 'api_key', 'anonymous', 'system'))
);
create index audit_log_created_idx on audit_log (created_at desc, id desc);
create index audit_log_entity_idx on audit_log (entity_type, entity_id);
create index audit_log_actor_idx on audit_log (actor_id);

-- Fixed-window counters, one row per (limit, subject). Instances are stateless, so the
-- counters live here; rows of past windows are overwritten in place.
create table rate_limits (
    key               text        not null,
    window_started_at timestamptz not null,
    hits              integer     not null,
    constraint rate_limits_pkey primary key (key)
);

-- Messages to send. Written in the same transaction as what caused them; the delivery
-- engine (notifications) sends them.
create table notification_outbox (
    id         uuid        not null default gen_random_uuid(),
    kind       text        not null,
    channel    text        not null,
    recipient  text        not null,
    payload    jsonb       not null,
    status     text        not null default 'pending',
    created_at timestamptz not null default now(),
    constraint notification_outbox_pkey primary key (id),
    constraint notification_outbox_channel_check check (channel in ('email', 'telegram', 'webhook')),
    constraint notification_outbox_status_check check (status in ('pending', 'sending', 'sent', 'dead'))
);
create index notification_outbox_pending_idx on notification_outbox (created_at) where status = 'pending';
