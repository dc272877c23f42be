//! SQL for notification channels and what they subscribe to.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Db, DbError, DbExt, Param};
use crate::notify::model::{Channel, ChannelType, Digest};

/// The unique indexes on a channel's address.
pub const PUBLIC_EMAIL_KEY: &str = "channels_public_email_key";
/// See [`PUBLIC_EMAIL_KEY`].
pub const USER_TARGET_KEY: &str = "channels_user_target_key";

/// The API shape of the channel aliased `c`.
macro_rules! channel_json {
    () => {
        "jsonb_build_object(
            'id', c.id, 'user_id', c.user_id, 'type', c.type, 'target', c.target, 'is_enabled', c.enabled,
            'is_verified', c.verified_at is not null, 'is_default', c.is_default,
            'subscribe_to_all_services', c.subscribe_all,
            'subscribed_service_ids', coalesce((select jsonb_agg(cs.service_id order by s.display_order, s.name)
                                                from channel_services cs join services s on s.id = cs.service_id
                                                where cs.channel_id = c.id), '[]'::jsonb),
            'subscribed_group_ids', coalesce((select jsonb_agg(cg.group_id order by g.display_order, g.name)
                                              from channel_groups cg join groups g on g.id = cg.group_id
                                              where cg.channel_id = c.id), '[]'::jsonb),
            'language', c.language, 'digest', c.digest, 'verified_at', rfc3339(c.verified_at),
            'disabled_reason', c.disabled_reason,
            'created_at', rfc3339(c.created_at), 'updated_at', rfc3339(c.updated_at))"
    };
}

/// An account's channels, newest first.
///
/// # Errors
/// Database errors.
pub fn list_for_user(db: &dyn Db, user: Uuid) -> Result<Vec<Channel>, DbError> {
    db.query_as(
        concat!(
            "select coalesce(jsonb_agg(",
            channel_json!(),
            " order by c.created_at desc, c.id), '[]'::jsonb)
                 from channels c where c.user_id = $1"
        ),
        &[user.into()],
    )
}

/// A channel by id.
///
/// # Errors
/// Database errors.
pub fn find(db: &dyn Db, id: Uuid) -> Result<Option<Channel>, DbError> {
    db.query_as(concat!("select (select ", channel_json!(), " from channels c where c.id = $1)"), &[id.into()])
}

/// The public subscription of an address.
///
/// # Errors
/// Database errors.
pub fn find_public(db: &dyn Db, email: &str) -> Result<Option<Channel>, DbError> {
    db.query_as(
        concat!(
            "select (select ",
            channel_json!(),
            " from channels c where c.user_id is null and lower(c.target) = lower($1))"
        ),
        &[email.into()],
    )
}

/// A new channel's fields.
#[derive(Debug, Clone)]
pub struct NewChannel<'a> {
    /// The account (none for a public subscriber).
    pub user_id: Option<Uuid>,
    /// Type.
    pub channel_type: ChannelType,
    /// Address.
    pub target: &'a str,
    /// Webhook signing secret.
    pub secret: Option<&'a str>,
    /// Language.
    pub language: &'a str,
    /// Digest.
    pub digest: Digest,
    /// Whether it subscribes to everything.
    pub subscribe_all: bool,
    /// Verified already (none yet).
    pub verified_at: Option<OffsetDateTime>,
}

/// Inserts a channel; answers its id.
///
/// # Errors
/// Database errors ([`PUBLIC_EMAIL_KEY`], [`USER_TARGET_KEY`] when the address is taken).
pub fn insert(db: &dyn Db, channel: &NewChannel<'_>, at: OffsetDateTime) -> Result<Uuid, DbError> {
    db.query_as(
        "with inserted as (
             insert into channels (user_id, type, target, secret, language, digest, subscribe_all, verified_at,
                                   is_default, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8::text::timestamptz,
                     $1::uuid is not null and not exists (select 1 from channels where user_id = $1),
                     $9::text::timestamptz, $9::text::timestamptz)
             returning id)
         select to_jsonb(id) from inserted",
        &[
            channel.user_id.into(),
            channel.channel_type.as_str().into(),
            channel.target.into(),
            channel.secret.map(str::to_owned).into(),
            channel.language.into(),
            channel.digest.as_str().into(),
            channel.subscribe_all.into(),
            channel.verified_at.into(),
            at.into(),
        ],
    )
}

/// Changes of a channel's settings (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct ChannelPatch {
    /// On or off (turning on clears the reason it was off).
    pub enabled: Option<bool>,
    /// Language.
    pub language: Option<String>,
    /// Digest.
    pub digest: Option<Digest>,
    /// Make it the account's default.
    pub is_default: Option<bool>,
}

/// Applies `patch` to channel `id`.
///
/// # Errors
/// Database errors.
pub fn update(db: &dyn Db, id: Uuid, patch: &ChannelPatch, at: OffsetDateTime) -> Result<(), DbError> {
    if patch.is_default == Some(true) {
        db.execute(
            "update channels set is_default = false
             where user_id = (select user_id from channels where id = $1) and id <> $1 and is_default",
            &[id.into()],
        )?;
    }
    db.execute(
        "update channels set
             enabled = coalesce($2, enabled),
             disabled_reason = case when $2 then null else disabled_reason end,
             consecutive_failures = case when $2 then 0 else consecutive_failures end,
             language = coalesce($3, language),
             digest = coalesce($4, digest),
             is_default = coalesce($5, is_default),
             updated_at = $6::text::timestamptz
         where id = $1",
        &[
            id.into(),
            patch.enabled.map_or(Param::Null, Param::Bool),
            patch.language.clone().into(),
            patch.digest.map(Digest::as_str).into(),
            patch.is_default.map_or(Param::Null, Param::Bool),
            at.into(),
        ],
    )?;
    Ok(())
}

/// Deletes channel `id` (its pending deliveries are cancelled by the engine).
///
/// # Errors
/// Database errors.
pub fn delete(db: &dyn Db, id: Uuid) -> Result<(), DbError> {
    // What it had waiting goes with it (the outbox keeps no foreign key: see migration 0007).
    db.execute(
        "update notification_outbox set status = 'cancelled', last_error = 'the channel was removed', leased_until = null
         where channel_id = $1 and status in ('pending', 'held')",
        &[id.into()],
    )?;
    db.execute("delete from channels where id = $1", &[id.into()])?;
    Ok(())
}

/// Replaces what channel `id` subscribes to.
///
/// # Errors
/// Database errors.
pub fn set_subscriptions(
    db: &dyn Db,
    id: Uuid,
    all: bool,
    services: &[Uuid],
    groups: &[Uuid],
    at: OffsetDateTime,
) -> Result<(), DbError> {
    db.execute(
        "update channels set subscribe_all = $2, updated_at = $3::text::timestamptz where id = $1",
        &[id.into(), all.into(), at.into()],
    )?;
    db.execute("delete from channel_services where channel_id = $1", &[id.into()])?;
    db.execute("delete from channel_groups where channel_id = $1", &[id.into()])?;
    db.execute(
        "insert into channel_services (channel_id, service_id)
         select $1, unnest($2::text[]::uuid[]) on conflict do nothing",
        &[id.into(), services.into()],
    )?;
    db.execute(
        "insert into channel_groups (channel_id, group_id)
         select $1, unnest($2::text[]::uuid[]) on conflict do nothing",
        &[id.into(), groups.into()],
    )?;
    Ok(())
}

/// A channel's verification state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Verification {
    /// SHA-256 of the e-mail code.
    pub code_hash: Option<String>,
    /// Until when the code and token work.
    #[serde(with = "crate::time::serde::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Wrong codes so far.
    pub attempts: i32,
    /// When the last code or link went out.
    #[serde(with = "crate::time::serde::option")]
    pub sent_at: Option<OffsetDateTime>,
}

/// Channel `id`'s verification state.
///
/// # Errors
/// Database errors.
pub fn verification(db: &dyn Db, id: Uuid) -> Result<Option<Verification>, DbError> {
    db.query_as(
        "select (select jsonb_build_object('code_hash', verify_code_hash, 'expires_at', rfc3339(verify_expires_at),
                                           'attempts', verify_attempts, 'sent_at', rfc3339(verify_sent_at))
                 from channels where id = $1)",
        &[id.into()],
    )
}

/// Starts (or restarts) verification: a code and/or a link token (stored hashed), valid until
/// `expires_at`.
///
/// # Errors
/// Database errors.
pub fn start_verification(
    db: &dyn Db,
    id: Uuid,
    (code_hash, token_hash): (Option<&str>, Option<&str>),
    expires_at: OffsetDateTime,
    at: OffsetDateTime,
) -> Result<(), DbError> {
    db.execute(
        "update channels set verify_code_hash = $2, verify_token_hash = $3, verify_expires_at = $4::text::timestamptz,
                             verify_attempts = 0, verify_sent_at = $5::text::timestamptz, updated_at = $5::text::timestamptz
         where id = $1",
        &[id.into(), code_hash.map(str::to_owned).into(), token_hash.map(str::to_owned).into(), expires_at.into(), at.into()],
    )?;
    Ok(())
}

/// Counts a wrong code; answers the attempts so far.
///
/// # Errors
/// Database errors.
pub fn count_attempt(db: &dyn Db, id: Uuid) -> Result<i32, DbError> {
    db.query_as(
        "with counted as (update channels set verify_attempts = verify_attempts + 1 where id = $1 returning verify_attempts)
         select coalesce((select to_jsonb(verify_attempts) from counted), '0'::jsonb)",
        &[id.into()],
    )
}

/// Marks channel `id` verified (with `target`, for a Telegram chat learned at confirmation).
///
/// # Errors
/// Database errors.
pub fn mark_verified(db: &dyn Db, id: Uuid, target: Option<&str>, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update channels set verified_at = coalesce(verified_at, $3::text::timestamptz), target = coalesce($2, target),
                             verify_code_hash = null, verify_token_hash = null, verify_expires_at = null,
                             verify_attempts = 0, enabled = true, disabled_reason = null, consecutive_failures = 0,
                             updated_at = $3::text::timestamptz
         where id = $1",
        &[id.into(), target.map(str::to_owned).into(), at.into()],
    )?;
    Ok(())
}

/// The channel whose verification link token hashes to `token_hash` and has not expired at
/// `now`.
///
/// # Errors
/// Database errors.
pub fn find_by_token(db: &dyn Db, token_hash: &str, now: OffsetDateTime) -> Result<Option<Channel>, DbError> {
    db.query_as(
        concat!(
            "select (select ",
            channel_json!(),
            " from channels c
                 where c.verify_token_hash = $1 and c.verify_expires_at > $2::text::timestamptz)"
        ),
        &[token_hash.into(), now.into()],
    )
}

/// Stops channel `id` receiving, saying why.
///
/// # Errors
/// Database errors.
pub fn disable(db: &dyn Db, id: Uuid, reason: &str, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update channels set enabled = false, disabled_reason = $2, updated_at = $3::text::timestamptz where id = $1",
        &[id.into(), reason.into(), at.into()],
    )?;
    Ok(())
}

/// Every service id among `ids` that exists, and every group id among `groups` that exists.
///
/// # Errors
/// Database errors.
pub fn known(db: &dyn Db, services: &[Uuid], groups: &[Uuid]) -> Result<(Vec<Uuid>, Vec<Uuid>), DbError> {
    db.query_as(
        "select jsonb_build_array(
            coalesce((select jsonb_agg(id) from services where id = any($1::text[]::uuid[]) and archived_at is null), '[]'::jsonb),
            coalesce((select jsonb_agg(id) from groups where id = any($2::text[]::uuid[]) and archived_at is null), '[]'::jsonb))",
        &[services.into(), groups.into()],
    )
}

/// The channels of a Telegram chat.
///
/// # Errors
/// Database errors.
pub fn telegram_chat_channels(db: &dyn Db, chat: &str) -> Result<Vec<Uuid>, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(id), '[]'::jsonb) from channels where type = 'telegram' and target = $1",
        &[chat.into()],
    )
}

/// Who a channel belongs to: the account's e-mail and the channel's language and address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Owner {
    /// The account's e-mail.
    pub email: String,
    /// The channel's language.
    pub language: String,
    /// The channel's address.
    pub target: String,
}

/// The owner of account channel `id` (none for a public subscriber's).
///
/// # Errors
/// Database errors.
pub fn owner(db: &dyn Db, id: Uuid) -> Result<Option<Owner>, DbError> {
    db.query_as(
        "select (select jsonb_build_object('email', u.email, 'language', c.language, 'target', c.target)
                 from channels c join users u on u.id = c.user_id where c.id = $1)",
        &[id.into()],
    )
}

/// Stores a public subscriber's one-time manage code (hashed).
///
/// # Errors
/// Database errors.
pub fn insert_manage_code(
    db: &dyn Db,
    channel: Uuid,
    code_hash: &str,
    expires_at: OffsetDateTime,
    at: OffsetDateTime,
) -> Result<(), DbError> {
    db.execute(
        "insert into subscriber_codes (channel_id, code_hash, expires_at, created_at)
         values ($1, $2, $3::text::timestamptz, $4::text::timestamptz)",
        &[channel.into(), code_hash.into(), expires_at.into(), at.into()],
    )?;
    Ok(())
}

/// Spends the manage code hashing to `code_hash` when it is unused and unexpired at `now`;
/// answers its channel.
///
/// # Errors
/// Database errors.
pub fn spend_manage_code(db: &dyn Db, code_hash: &str, now: OffsetDateTime) -> Result<Option<Uuid>, DbError> {
    db.query_as(
        "with spent as (
             update subscriber_codes set used_at = $2::text::timestamptz
             where code_hash = $1 and used_at is null and expires_at > $2::text::timestamptz
             returning channel_id)
         select (select to_jsonb(channel_id) from spent)",
        &[code_hash.into(), now.into()],
    )
}

/// Webhook channel `id`'s signing secret.
///
/// # Errors
/// Database errors.
pub fn secret(db: &dyn Db, id: Uuid) -> Result<Option<String>, DbError> {
    db.query_as("select (select to_jsonb(secret) from channels where id = $1)", &[id.into()])
}
