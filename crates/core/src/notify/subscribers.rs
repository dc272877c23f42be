//! Public subscribers: an e-mail address signs up from the status page without an account.
//!
//! - **Double opt-in**: signing up queues a confirmation link (48 h); the link opens a page with
//!   a button, and only the button's POST confirms, so a mail scanner that follows links
//!   confirms nothing.
//! - **No enumeration**: every sign-up and manage request answers the same, whatever the
//!   address's state; what happens next arrives by e-mail to that address only.
//! - **Managing** needs a one-time code mailed on request (knowing an address is not enough to
//!   change its subscription); the code opens the form and is spent, and the form carries a
//!   30-minute signed session instead.
//! - **Unsubscribing** is one click from any message (a signed link, RFC 8058).
//! - **Limits**: at most [`SIGN_UPS_PER_RECIPIENT`] messages to one address a day from these
//!   requests (on top of the per-address request limits of the routes).

use time::OffsetDateTime;
use uuid::Uuid;

use super::channels::{CONFIRM_VALID_FOR, RESEND_COOLDOWN, check_choices, confirm_url};
use super::links::{self, Purpose};
use super::model::{Channel, ChannelType, Digest, MessageKind};
use crate::auth::ratelimit;
use crate::auth::tokens;
use crate::db::Db;
use crate::error::Error;
use crate::public::site::Site;
use crate::repo::channels::{self as repo, NewChannel};
use crate::repo::outbox::{self, Direct};

/// Messages to one address a day that sign-ups and manage requests may cause.
pub const SIGN_UPS_PER_RECIPIENT: u32 = 5;
/// How long a manage code works.
pub const MANAGE_CODE_VALID_FOR: time::Duration = time::Duration::hours(1);

/// A sign-up.
#[derive(Debug, Clone)]
pub struct SignUp {
    /// The address.
    pub email: String,
    /// `en` or `ru`.
    pub language: String,
    /// Chosen services (none and no groups: all).
    pub service_ids: Vec<Uuid>,
    /// Chosen groups.
    pub group_ids: Vec<Uuid>,
}

/// Whether another message may go to `email` today (counted).
fn may_mail(db: &dyn Db, email: &str, now: OffsetDateTime) -> Result<bool, Error> {
    let limit = ratelimit::Limit { name: "subscriber-recipient", max: SIGN_UPS_PER_RECIPIENT, window_secs: 86_400 };
    match ratelimit::check(db, limit, &email.to_lowercase(), now) {
        Ok(()) => Ok(true),
        Err(crate::http::ApiError::TooManyRequests { .. }) => Ok(false),
        Err(other) => Err(Error::Internal(other.to_string())),
    }
}

fn queue(
    db: &dyn Db,
    kind: MessageKind,
    channel: &Channel,
    payload: serde_json::Value,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let direct = Direct {
        kind: kind.as_str(),
        channel_type: "email",
        recipient: &channel.target,
        language: &channel.language,
        channel: Some(channel.id),
        payload,
    };
    outbox::queue_direct(db, &direct, now)?;
    Ok(())
}

/// Signs `sign_up` up (inside a transaction). A new address gets a channel and a confirmation
/// link; an unconfirmed one its choices updated and the link again (not within
/// [`RESEND_COOLDOWN`]); a confirmed one a manage link (its subscription is not changed by
/// whoever knows the address). Answers whether a message was queued.
///
/// # Errors
/// 400 for unknown services or groups.
pub fn sign_up(db: &dyn Db, site: &Site, sign_up: &SignUp, now: OffsetDateTime) -> Result<bool, Error> {
    check_choices(db, &sign_up.service_ids, &sign_up.group_ids)?;
    let all = sign_up.service_ids.is_empty() && sign_up.group_ids.is_empty();
    let channel = match repo::find_public(db, &sign_up.email)? {
        Some(existing) if existing.is_verified => {
            if !may_mail(db, &existing.target, now)? {
                return Ok(false);
            }
            return request_manage_for(db, site, &existing, now).map(|()| true);
        }
        Some(pending) => {
            let state = repo::verification(db, pending.id)?;
            if state.and_then(|s| s.sent_at).is_some_and(|sent| now - sent < RESEND_COOLDOWN) {
                return Ok(false);
            }
            repo::set_subscriptions(db, pending.id, all, &sign_up.service_ids, &sign_up.group_ids, now)?;
            pending
        }
        None => {
            let new = NewChannel {
                user_id: None,
                channel_type: ChannelType::Email,
                target: &sign_up.email,
                secret: None,
                language: &sign_up.language,
                digest: Digest::Immediate,
                subscribe_all: all,
                verified_at: None,
            };
            let id = repo::insert(db, &new, now)?;
            repo::set_subscriptions(db, id, all, &sign_up.service_ids, &sign_up.group_ids, now)?;
            repo::find(db, id)?.ok_or_else(|| Error::Internal("the new subscriber vanished".into()))?
        }
    };
    if !may_mail(db, &channel.target, now)? {
        return Ok(false);
    }
    let token = tokens::random_secret(24).map_err(Error::Internal)?;
    repo::start_verification(db, channel.id, (None, Some(&tokens::hash_secret(&token))), now + CONFIRM_VALID_FOR, now)?;
    queue(
        db,
        MessageKind::SubscriberConfirmation,
        &channel,
        serde_json::json!({ "confirm_url": confirm_url(site, &token) }),
        now,
    )?;
    Ok(true)
}

/// Confirms the channel whose link token is `token` (a public subscriber's, or an account's
/// e-mail channel). Answers the channel.
///
/// # Errors
/// 400 `token` for an unknown or expired link.
pub fn confirm(db: &dyn Db, token: &str, now: OffsetDateTime) -> Result<Channel, Error> {
    let channel = repo::find_by_token(db, &tokens::hash_secret(token.trim()), now)?
        .ok_or_else(|| Error::invalid("token", "this link is not valid or has expired; sign up again for a new one"))?;
    repo::mark_verified(db, channel.id, None, now)?;
    repo::find(db, channel.id)?.ok_or_else(|| Error::NotFound("the channel is gone".into()))
}

fn request_manage_for(db: &dyn Db, site: &Site, channel: &Channel, now: OffsetDateTime) -> Result<(), Error> {
    let code = tokens::random_secret(24).map_err(Error::Internal)?;
    repo::insert_manage_code(db, channel.id, &tokens::hash_secret(&code), now + MANAGE_CODE_VALID_FOR, now)?;
    let url = site.url(&format!("/subscribers/manage?code={code}"));
    queue(db, MessageKind::SubscriberManage, channel, serde_json::json!({ "manage_url": url }), now)
}

/// Mails a one-time manage link to `email` when it is a confirmed subscriber (inside a
/// transaction); answers the same whatever the address is.
///
/// # Errors
/// Database errors.
pub fn request_manage(db: &dyn Db, site: &Site, email: &str, now: OffsetDateTime) -> Result<(), Error> {
    if let Some(channel) = repo::find_public(db, email)?.filter(|c| c.is_verified)
        && may_mail(db, &channel.target, now)?
    {
        request_manage_for(db, site, &channel, now)?;
    }
    Ok(())
}

/// Spends manage code `code`; answers the subscriber and a session for the form.
///
/// # Errors
/// 400 `code` for an unknown, spent or expired code.
pub fn open_manage(db: &dyn Db, secret: &str, code: &str, now: OffsetDateTime) -> Result<(Channel, String), Error> {
    let channel = repo::spend_manage_code(db, &tokens::hash_secret(code.trim()), now)?.ok_or_else(|| {
        Error::invalid("code", "this link is not valid, was used already, or has expired; ask for a new one")
    })?;
    let channel = repo::find(db, channel)?.ok_or_else(|| Error::NotFound("the subscription is gone".into()))?;
    let session = links::sign(secret, Purpose::Manage, channel.id, now, links::MANAGE_SESSION_FOR);
    Ok((channel, session))
}

/// The subscriber a manage session names.
///
/// # Errors
/// 400 `session` when it is not genuine or has expired; 404 when the subscription is gone.
pub fn session_channel(db: &dyn Db, keys: &[&str], session: &str, now: OffsetDateTime) -> Result<Channel, Error> {
    let id = links::verify(keys, Purpose::Manage, session, now).map_err(|m| Error::invalid("session", m))?;
    repo::find(db, id)?.ok_or_else(|| Error::NotFound("the subscription is gone".into()))
}

/// Unsubscribes the channel an unsubscribe link names: a public subscriber is deleted, an
/// account's channel disabled ("unsubscribed"). Answers the address.
///
/// # Errors
/// 400 `token` when the link is not genuine or has expired; 404 when it is gone already.
pub fn unsubscribe(db: &dyn Db, keys: &[&str], token: &str, now: OffsetDateTime) -> Result<String, Error> {
    let id = links::verify(keys, Purpose::Unsubscribe, token.trim(), now).map_err(|m| Error::invalid("token", m))?;
    let channel = repo::find(db, id)?.ok_or_else(|| Error::NotFound("this subscription is gone already".into()))?;
    if channel.user_id.is_none() {
        repo::delete(db, id)?;
    } else {
        repo::disable(db, id, "unsubscribed from a message", now)?;
    }
    Ok(channel.target)
}
