//! An account's channels: creating one (and starting its verification: an e-mail code and link,
//! a Telegram deep link, or a signed test delivery to a webhook), verifying, resending,
//! changing settings and subscriptions. Only verified, enabled channels receive anything.

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::model::{Channel, ChannelType, Digest, MessageKind};
use super::providers;
use super::render;
use crate::auth::tokens;
use crate::config::Config;
use crate::db::Db;
use crate::error::{Error, FieldError, OnConstraint};
use crate::outbound::Http;
use crate::public::site::Site;
use crate::repo::channels::{self as repo, NewChannel};
use crate::repo::outbox::{self, Direct};

/// How long an e-mail code and link work.
pub const CODE_VALID_FOR: Duration = Duration::minutes(15);
/// How long a Telegram deep link works.
pub const TELEGRAM_LINK_VALID_FOR: Duration = Duration::hours(24);
/// How long a public subscriber's confirmation link works.
pub const CONFIRM_VALID_FOR: Duration = Duration::hours(48);
/// Wrong codes before a new one must be asked for.
pub const MAX_CODE_ATTEMPTS: i32 = 5;
/// Between two codes or links.
pub const RESEND_COOLDOWN: Duration = Duration::seconds(60);

/// What a new channel asks for.
#[derive(Debug, Clone)]
pub struct ChannelInput {
    /// Its type.
    pub channel_type: ChannelType,
    /// Its address (not for Telegram: the chat is learned when it confirms).
    pub target: String,
    /// `en` or `ru`.
    pub language: String,
    /// Immediate or a digest.
    pub digest: Digest,
    /// Every service (the default), or only the chosen ones.
    pub subscribe_all: bool,
    /// Chosen services.
    pub service_ids: Vec<Uuid>,
    /// Chosen groups.
    pub group_ids: Vec<Uuid>,
}

/// Whether `channel_type` can be used with this configuration.
///
/// # Errors
/// A message naming what to configure.
pub fn available(config: &Config, channel_type: ChannelType) -> Result<(), String> {
    match channel_type {
        ChannelType::Email if !config.email_enabled() => Err("e-mail is not configured here (email_provider)".into()),
        ChannelType::Telegram if !config.telegram_enabled() => {
            Err("Telegram is not configured here (telegram_bot_token, telegram_bot_username)".into())
        }
        ChannelType::Webhook | ChannelType::Mattermost if !config.webhooks_enabled() => {
            Err("webhooks are not allowed here (webhook_allowed_hosts)".into())
        }
        _ => Ok(()),
    }
}

/// Checks a webhook or Mattermost URL: `https://` (or `http://`), a host, no credentials.
///
/// # Errors
/// A message saying what is wrong.
pub fn check_url(raw: &str) -> Result<String, String> {
    let rest = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://")).ok_or("must be an https:// URL")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || raw.len() > 2048 || raw.chars().any(char::is_whitespace) {
        return Err("must be an https:// URL with a host and no credentials".into());
    }
    Ok(raw.to_owned())
}

/// A Telegram chat a client names: empty (learned when the deep link is opened), or a chat id.
///
/// # Errors
/// A message saying what a chat id is.
pub fn telegram_chat(raw: &str) -> Result<String, String> {
    let chat = raw.trim();
    let digits = chat.strip_prefix('-').unwrap_or(chat);
    if chat.is_empty() || (!digits.is_empty() && digits.len() <= 20 && digits.chars().all(|c| c.is_ascii_digit())) {
        Ok(chat.to_owned())
    } else {
        Err("must be a Telegram chat id (digits, negative for groups), or left out: the chat is learned when the deep link is opened".into())
    }
}

/// Answers a `Result`'s error as a 400 on `field`.
fn on<T>(field: &str, result: Result<T, String>) -> Result<T, Error> {
    result.map_err(|m| Error::invalid(field, m))
}

/// Checks that every chosen service and group exists.
///
/// # Errors
/// 400 on `service_ids` / `group_ids`.
pub fn check_choices(db: &dyn Db, services: &[Uuid], groups: &[Uuid]) -> Result<(), Error> {
    let (known_services, known_groups) = repo::known(db, services, groups)?;
    let mut errors = Vec::new();
    let unknown: Vec<String> = services.iter().filter(|s| !known_services.contains(s)).map(Uuid::to_string).collect();
    if !unknown.is_empty() {
        errors.push(FieldError::new("service_ids", format!("unknown or archived services: {}", unknown.join(", "))));
    }
    let unknown: Vec<String> = groups.iter().filter(|g| !known_groups.contains(g)).map(Uuid::to_string).collect();
    if !unknown.is_empty() {
        errors.push(FieldError::new("group_ids", format!("unknown or archived groups: {}", unknown.join(", "))));
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Invalid(errors)) }
}

/// A 6-digit code.
fn code() -> Result<String, Error> {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("random source failed: {e}")))?;
    Ok(format!("{:06}", u32::from_le_bytes(bytes) % 1_000_000))
}

fn code_hash(channel: Uuid, code: &str) -> String {
    Sha256::digest(format!("{channel}:{code}")).iter().map(|b| format!("{b:02x}")).collect()
}

/// The confirmation link of a verification token.
#[must_use]
pub fn confirm_url(site: &Site, token: &str) -> String {
    site.url(&format!("/subscribers/confirm?token={token}"))
}

/// Starts (or restarts) verification of channel `channel`: for e-mail a code and a link are
/// queued to the address; for Telegram a deep link is made. Answers what the client shows.
///
/// # Errors
/// Database errors.
pub fn start_verification(
    db: &dyn Db,
    (config, site): (&Config, &Site),
    channel: &Channel,
    now: OffsetDateTime,
) -> Result<Value, Error> {
    let token = tokens::random_secret(24).map_err(Error::Internal)?;
    match channel.channel_type {
        ChannelType::Email => {
            let code = code()?;
            let expires = now + CODE_VALID_FOR;
            repo::start_verification(
                db,
                channel.id,
                (Some(&code_hash(channel.id, &code)), Some(&tokens::hash_secret(&token))),
                expires,
                now,
            )?;
            let payload = json!({
                "code": code, "confirm_url": confirm_url(site, &token),
                "expires_in_minutes": CODE_VALID_FOR.whole_minutes(),
            });
            let direct = Direct {
                kind: MessageKind::ChannelVerification.as_str(),
                channel_type: "email",
                recipient: &channel.target,
                language: &channel.language,
                channel: Some(channel.id),
                payload,
            };
            outbox::queue_direct(db, &direct, now)?;
            Ok(json!({ "method": "email_code", "expires_at": crate::time::format_rfc3339(expires) }))
        }
        ChannelType::Telegram => {
            let expires = now + TELEGRAM_LINK_VALID_FOR;
            repo::start_verification(db, channel.id, (None, Some(&tokens::hash_secret(&token))), expires, now)?;
            Ok(json!({
                "method": "telegram_deep_link",
                "url": format!("https://t.me/{}?start={token}", config.telegram_bot_username),
                "expires_at": crate::time::format_rfc3339(expires),
            }))
        }
        ChannelType::Webhook | ChannelType::Mattermost => Ok(json!({ "method": "test_delivery" })),
    }
}

/// Sends channel `channel`'s signed test delivery (webhook) or test post (Mattermost); a 2xx
/// verifies it. Call it outside any transaction: it waits for the receiver.
///
/// # Errors
/// Database errors.
pub fn test_delivery(
    db: &dyn Db,
    (http, config, site): (&dyn Http, &Config, &Site),
    channel: &Channel,
    secret: &str,
    now: OffsetDateTime,
) -> Result<Value, Error> {
    let request = match channel.channel_type {
        ChannelType::Webhook => {
            let body = render::webhook_body(MessageKind::ChannelTest, &json!({}), site, "").map_err(Error::Internal)?;
            providers::webhook_request(
                (&channel.target, secret),
                MessageKind::ChannelTest.as_str(),
                channel.id,
                &body,
                (now.unix_timestamp(), config.webhook_timeout()),
            )
        }
        ChannelType::Mattermost => {
            let lang =
                if channel.language == "ru" { crate::public::i18n::Lang::Ru } else { crate::public::i18n::Lang::En };
            let text =
                render::render(MessageKind::ChannelTest, &json!({}), lang, site, None).map_err(Error::Internal)?;
            providers::mattermost_request(&channel.target, &text.markdown, &site.title, config.webhook_timeout())
        }
        _ => return Ok(json!({ "method": "none" })),
    };
    let response = http
        .send_all(vec![request], 1)
        .pop()
        .unwrap_or(Err(crate::outbound::OutError::Unreachable("no answer".into())));
    let outcome = providers::webhook_outcome(&response, channel.channel_type == ChannelType::Mattermost);
    if outcome == providers::Outcome::Sent {
        repo::mark_verified(db, channel.id, None, now)?;
        return Ok(json!({ "method": "test_delivery", "delivered": true }));
    }
    let reason = match outcome {
        providers::Outcome::Retry { reason, .. } | providers::Outcome::Permanent { reason, .. } => reason,
        providers::Outcome::Sent => String::new(),
    };
    Ok(json!({ "method": "test_delivery", "delivered": false, "error": reason }))
}

/// A new channel, with its webhook secret (shown this once).
#[derive(Debug, Clone)]
pub struct Created {
    /// The channel.
    pub channel: Channel,
    /// The webhook signing secret.
    pub secret: Option<String>,
}

/// Creates account `user`'s channel. Call it inside a transaction, then
/// [`start_verification`] (or, for webhooks, [`test_delivery`] once committed).
///
/// # Errors
/// 400 for a type that is not configured, a bad address, unknown choices; 409
/// `channel_exists` for an address the account already has.
pub fn create(
    db: &dyn Db,
    config: &Config,
    user: Uuid,
    input: &ChannelInput,
    now: OffsetDateTime,
) -> Result<Created, Error> {
    on("type", available(config, input.channel_type))?;
    let target = match input.channel_type {
        ChannelType::Email => on("target", crate::domain::Email::parse(&input.target).map(|e| e.as_str().to_owned()))?,
        ChannelType::Webhook | ChannelType::Mattermost => {
            let url = on("target", check_url(&input.target))?;
            if !config.webhook_target_allowed(&url) {
                return Err(Error::invalid(
                    "target",
                    format!(
                        "this host is not one webhooks may call here (webhook_allowed_hosts is {})",
                        config.webhook_allowed_hosts
                    ),
                ));
            }
            url
        }
        // The chat is learned from Telegram when the user opens the deep link; a client that
        // names it (as the old service's did) gets exactly that chat or nothing.
        ChannelType::Telegram => on("target", telegram_chat(&input.target))?,
    };
    check_choices(db, &input.service_ids, &input.group_ids)?;
    let secret = (input.channel_type == ChannelType::Webhook)
        .then(|| tokens::random_secret(32).map(|s| format!("whsec_{s}")))
        .transpose()
        .map_err(Error::Internal)?;
    let new = NewChannel {
        user_id: Some(user),
        channel_type: input.channel_type,
        target: &target,
        secret: secret.as_deref(),
        language: &input.language,
        digest: input.digest,
        subscribe_all: input.subscribe_all,
        verified_at: None,
    };
    let id = repo::insert(db, &new, now).on_constraint(repo::USER_TARGET_KEY, || {
        Error::conflict(
            "channel_exists",
            format!("you already have a {} channel for {target}", input.channel_type.as_str()),
        )
    })?;
    repo::set_subscriptions(db, id, input.subscribe_all, &input.service_ids, &input.group_ids, now)?;
    let channel = repo::find(db, id)?.ok_or_else(|| Error::Internal("the new channel vanished".into()))?;
    Ok(Created { channel, secret })
}

/// Account `user`'s channel `id`.
///
/// # Errors
/// 404 for none; 403 for another account's (as the old service answered).
pub fn owned(db: &dyn Db, user: Uuid, id: Uuid) -> Result<Channel, Error> {
    let channel = repo::find(db, id)?.ok_or_else(|| Error::NotFound(format!("no channel has id {id}")))?;
    if channel.user_id != Some(user) {
        return Err(Error::Forbidden("this channel belongs to another account".into()));
    }
    Ok(channel)
}

/// Checks an e-mail code for channel `channel`.
///
/// # Errors
/// 400 `code` for a wrong code (with the attempts left); 409 `code_expired` or
/// `too_many_attempts` (ask for a new code); 409 `already_verified`.
pub fn verify_code(db: &dyn Db, channel: &Channel, code: &str, now: OffsetDateTime) -> Result<(), Error> {
    if channel.is_verified {
        return Err(Error::conflict("already_verified", "this channel is verified already"));
    }
    let state = repo::verification(db, channel.id)?.ok_or_else(|| Error::NotFound("no such channel".into()))?;
    let Some(hash) = state.code_hash else {
        return Err(Error::conflict("no_code", "no code is pending for this channel: ask for one (resend-code)"));
    };
    if state.expires_at.is_none_or(|e| e <= now) {
        return Err(Error::conflict("code_expired", "the code has expired: ask for a new one (resend-code)"));
    }
    if state.attempts >= MAX_CODE_ATTEMPTS {
        return Err(Error::conflict("too_many_attempts", "too many wrong codes: ask for a new one (resend-code)"));
    }
    if !tokens::hashes_equal(&hash, &code_hash(channel.id, code.trim())) {
        let attempts = repo::count_attempt(db, channel.id)?;
        let left = (MAX_CODE_ATTEMPTS - attempts).max(0);
        return Err(Error::invalid("code", format!("is not the code we sent ({left} attempts left)")));
    }
    repo::mark_verified(db, channel.id, None, now)?;
    Ok(())
}

/// How long until channel `channel` may get another code or link (zero: now).
///
/// # Errors
/// Database errors.
pub fn resend_wait(db: &dyn Db, channel: &Channel, now: OffsetDateTime) -> Result<Duration, Error> {
    let state = repo::verification(db, channel.id)?.ok_or_else(|| Error::NotFound("no such channel".into()))?;
    Ok(state.sent_at.map_or(Duration::ZERO, |sent| (sent + RESEND_COOLDOWN - now).max(Duration::ZERO)))
}
