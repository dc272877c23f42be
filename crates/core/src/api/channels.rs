//! `/api/v1/me/channels`, `/api/v1/me/subscriptions`, `/api/v1/notifications/*` and the
//! Telegram bot's webhook (with the old service's channel and subscription shapes).

use serde_json::{Value, json};
use uuid::Uuid;

use crate::api::parse::{self, Listing, path_id, uuid_query};
use crate::app::Ctx;
use crate::auth::{Action, Principal};
use crate::http::{ApiError, Body, FieldError, Request, Response, present};
use crate::notify::channels::{self, ChannelInput};
use crate::notify::model::{Channel, ChannelType, DeliveryStatus, Digest, MessageKind};
use crate::public::site::Site;
use crate::repo::channels::{self as repo, ChannelPatch};
use crate::repo::outbox::{self, DeliveryFilter};

/// The signed-in person (channels belong to people, not to API keys).
fn user(ctx: &Ctx<'_>) -> Result<Uuid, ApiError> {
    match ctx.require(Action::ManageOwnAccount)? {
        Principal::User { id, .. } => Ok(*id),
        Principal::ApiKey { .. } => Err(ApiError::Forbidden("API keys have no channels; sign in as a person".into())),
    }
}

fn language(body: &mut Body, field: &str) -> Option<String> {
    body.optional_str(field).and_then(|raw| {
        body.check(field, if raw == "en" || raw == "ru" { Ok(raw) } else { Err("must be en or ru".to_owned()) })
    })
}

/// Fields of the channel shape a client may send back unchanged.
const CHANNEL_READ_ONLY: &[&str] = &[
    "id",
    "user_id",
    "is_verified",
    "verified_at",
    "disabled_reason",
    "created_at",
    "updated_at",
    "subscribed_service_ids",
    "subscribed_group_ids",
];

fn channel_input(request: &Request) -> Result<(ChannelInput, Option<bool>), ApiError> {
    let mut body = Body::parse(request)?;
    let channel_type = body.required_str("type").and_then(|t| body.check("type", ChannelType::parse(&t)));
    let target = body.optional_str("target").unwrap_or_default();
    let language = language(&mut body, "language").unwrap_or_else(|| "en".to_owned());
    let digest =
        body.optional_str("digest").and_then(|d| body.check("digest", Digest::parse(&d))).unwrap_or(Digest::Immediate);
    let is_default = body.optional_bool("is_default");
    let all = body.optional_bool("subscribe_to_all_services");
    let service_ids = body.optional_uuid_list("service_ids").unwrap_or_default();
    let group_ids = body.optional_uuid_list("group_ids").unwrap_or_default();
    if let Some(enabled) = body.optional_bool("is_enabled")
        && !enabled
    {
        body.error("is_enabled", "a channel starts enabled; disable it with PATCH once created");
    }
    body.read_only(CHANNEL_READ_ONLY);
    body.finish()?;
    let subscribe_all = all.unwrap_or(service_ids.is_empty() && group_ids.is_empty());
    let input = ChannelInput {
        channel_type: present(channel_type)?,
        target,
        language,
        digest,
        subscribe_all,
        service_ids,
        group_ids,
    };
    Ok((input, is_default))
}

fn with(channel: &Channel, extra: Value) -> Value {
    let mut value = serde_json::to_value(channel).unwrap_or_default();
    if let (Some(target), Value::Object(extra)) = (value.as_object_mut(), extra) {
        target.extend(extra);
    }
    value
}

/// `GET /api/v1/me/channels`: the caller's channels, newest first.
///
/// # Errors
/// 401.
pub fn list(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let user = user(ctx)?;
    Ok(Response::data(&repo::list_for_user(ctx.db()?, user)?))
}

/// `POST /api/v1/me/channels {type, target, language?, digest?, is_default?,
/// subscribe_to_all_services?, service_ids?, group_ids?}`: 201 with the channel and how to
/// verify it (`verification`): an e-mail code (and link) is sent; a Telegram deep link is
/// answered; a webhook gets a signed test delivery now (and its `secret`, shown this once).
///
/// # Errors
/// 401, 400 (a type not configured here, a bad address), 409 `channel_exists`.
pub fn create(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let user = user(ctx)?;
    let (input, is_default) = channel_input(ctx.request)?;
    let config = ctx.config()?;
    let site = Site::of(config);
    let (created, verification) = ctx.write(|db| {
        let created = channels::create(db, config, user, &input, ctx.now)?;
        if is_default == Some(true) {
            repo::update(
                db,
                created.channel.id,
                &ChannelPatch { is_default: Some(true), ..ChannelPatch::default() },
                ctx.now,
            )?;
        }
        let verification = channels::start_verification(db, (config, &site), &created.channel, ctx.now)?;
        ctx.audit(
            db,
            crate::audit::Entry::new("channel.create", "channel", created.channel.id).after(&created.channel),
        )?;
        Ok((created, verification))
    })?;
    let db = ctx.db()?;
    let verification = match created.channel.channel_type {
        ChannelType::Webhook | ChannelType::Mattermost => channels::test_delivery(
            db,
            (ctx.env.http(), config, &site),
            &created.channel,
            created.secret.as_deref().unwrap_or_default(),
            ctx.now,
        )?,
        ChannelType::Email => {
            ctx.deliver_soon();
            verification
        }
        ChannelType::Telegram => verification,
    };
    let channel = repo::find(db, created.channel.id)?.unwrap_or(created.channel);
    let mut extra = json!({ "verification": verification });
    if let Some(secret) = created.secret {
        extra["secret"] = secret.into();
    }
    Ok(Response::created(&with(&channel, extra)))
}

fn owned(ctx: &Ctx<'_>) -> Result<Channel, ApiError> {
    let user = user(ctx)?;
    let id = path_id(ctx, "id")?;
    Ok(channels::owned(ctx.db()?, user, id)?)
}

/// `GET /api/v1/me/channels/{id}`.
///
/// # Errors
/// 401, 403 (another account's), 404.
pub fn get(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    Ok(Response::data(&owned(ctx)?))
}

/// `PATCH /api/v1/me/channels/{id} {is_enabled?, language?, digest?, is_default?}`.
///
/// # Errors
/// 401, 403, 404, 400.
pub fn update(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let channel = owned(ctx)?;
    let mut body = Body::parse(ctx.request)?;
    let patch = ChannelPatch {
        enabled: body.optional_bool("is_enabled"),
        language: language(&mut body, "language"),
        digest: body.optional_str("digest").and_then(|d| body.check("digest", Digest::parse(&d))),
        is_default: body.optional_bool("is_default"),
    };
    body.read_only(&[CHANNEL_READ_ONLY, &["type", "target", "subscribe_to_all_services"]].concat());
    body.finish()?;
    let updated = ctx.write(|db| {
        repo::update(db, channel.id, &patch, ctx.now)?;
        let after = repo::find(db, channel.id)?.ok_or_else(|| ApiError::NotFound("the channel is gone".into()))?;
        ctx.audit(
            db,
            crate::audit::Entry::new("channel.update", "channel", channel.id).before(&channel).after(&after),
        )?;
        Ok(after)
    })?;
    Ok(Response::data(&updated))
}

/// `DELETE /api/v1/me/channels/{id}`: 204; what it had queued is dropped.
///
/// # Errors
/// 401, 403, 404.
pub fn delete(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let channel = owned(ctx)?;
    ctx.write(|db| {
        repo::delete(db, channel.id)?;
        ctx.audit(db, crate::audit::Entry::new("channel.delete", "channel", channel.id).before(&channel))
    })?;
    Ok(Response::no_content())
}

/// `POST /api/v1/me/channels/{id}/verify`: e-mail `{code}`; a webhook or Mattermost channel
/// gets its test delivery again; a Telegram channel is verified by the chat (409 until then).
///
/// # Errors
/// 401, 403, 404; 400 `code`; 409 `code_expired`, `too_many_attempts`, `already_verified`,
/// `not_confirmed`.
pub fn verify(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let channel = owned(ctx)?;
    // Only e-mail channels verify by a code; the others by their own round trip, so a code sent
    // for one is refused rather than ignored (the client would believe it counted).
    let mut body = Body::parse_or_empty(ctx.request)?;
    let code = if channel.channel_type == ChannelType::Email {
        body.required_str("code")
    } else {
        if body.optional_str("code").is_some() {
            body.error("code", format!("a {} channel takes no code", channel.channel_type.as_str()));
        }
        None
    };
    body.finish()?;
    match channel.channel_type {
        ChannelType::Email => {
            let code = present(code)?;
            // A wrong code is counted even though the answer is an error.
            let db = ctx.db()?;
            crate::db::transaction(db, |db| match channels::verify_code(db, &channel, &code, ctx.now) {
                Err(crate::error::Error::Invalid(fields)) => Ok(Err(ApiError::Validation(fields))),
                other => other.map(Ok).map_err(ApiError::from),
            })??;
        }
        ChannelType::Webhook | ChannelType::Mattermost => {
            let config = ctx.config()?;
            let secret = repo::secret(ctx.db()?, channel.id)?.unwrap_or_default();
            let site = Site::of(config);
            let outcome =
                channels::test_delivery(ctx.db()?, (ctx.env.http(), config, &site), &channel, &secret, ctx.now)?;
            if outcome["delivered"] != true {
                return Err(ApiError::Conflict {
                    code: "test_delivery_failed",
                    message: format!("the test delivery failed: {}", outcome["error"].as_str().unwrap_or_default()),
                });
            }
        }
        ChannelType::Telegram if !channel.is_verified => {
            return Err(ApiError::Conflict {
                code: "not_confirmed",
                message: "open the Telegram link and press Start; ask for a new link with resend-code".into(),
            });
        }
        ChannelType::Telegram => {}
    }
    Ok(Response::data(&repo::find(ctx.db()?, channel.id)?.unwrap_or(channel)))
}

/// `POST /api/v1/me/channels/{id}/resend-code`: a new e-mail code and link, or a new Telegram
/// link; at most one a minute (429 with `Retry-After`).
///
/// # Errors
/// 401, 403, 404, 409 `already_verified` or for a webhook, 429.
pub fn resend(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let channel = owned(ctx)?;
    if channel.is_verified {
        return Err(ApiError::Conflict {
            code: "already_verified",
            message: "this channel is verified already".into(),
        });
    }
    if matches!(channel.channel_type, ChannelType::Webhook | ChannelType::Mattermost) {
        return Err(ApiError::Conflict {
            code: "no_code",
            message: "webhooks are verified by a test delivery: POST .../verify".into(),
        });
    }
    let wait = channels::resend_wait(ctx.db()?, &channel, ctx.now)?;
    if wait > time::Duration::ZERO {
        return Err(ApiError::TooManyRequests {
            retry_after: u64::try_from(wait.whole_seconds().max(1)).unwrap_or(60),
            limit: 1,
        });
    }
    let config = ctx.config()?;
    let verification =
        ctx.write(|db| Ok(channels::start_verification(db, (config, &Site::of(config)), &channel, ctx.now)?))?;
    if channel.channel_type == ChannelType::Email {
        ctx.deliver_soon();
    }
    Ok(Response::data(&json!({ "verification": verification })))
}

fn subscription_view(channel: &Channel) -> Value {
    json!({
        "channel_id": channel.id,
        "subscribe_to_all_services": channel.subscribe_to_all_services,
        "subscribed_service_ids": channel.subscribed_service_ids,
        "subscribed_group_ids": channel.subscribed_group_ids,
    })
}

/// `PUT /api/v1/me/channels/{id}/subscriptions {subscribe_to_all_services, service_ids,
/// group_ids?}`: what the channel hears about (a group covers the services it has when a
/// message goes out).
///
/// # Errors
/// 401, 403, 404, 400.
pub fn put_subscriptions(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let channel = owned(ctx)?;
    let mut body = Body::parse(ctx.request)?;
    let all = body.optional_bool("subscribe_to_all_services");
    let services = body.optional_uuid_list("service_ids").unwrap_or_default();
    let groups = body.optional_uuid_list("group_ids").unwrap_or_default();
    body.read_only(&["channel_id", "subscribed_service_ids", "subscribed_group_ids"]);
    body.finish()?;
    let all = all.unwrap_or(services.is_empty() && groups.is_empty());
    let updated = ctx.write(|db| {
        channels::check_choices(db, &services, &groups)?;
        repo::set_subscriptions(db, channel.id, all, &services, &groups, ctx.now)?;
        let after = repo::find(db, channel.id)?.ok_or_else(|| ApiError::NotFound("the channel is gone".into()))?;
        ctx.audit(
            db,
            crate::audit::Entry::new("channel.subscriptions", "channel", channel.id).before(&channel).after(&after),
        )?;
        Ok(after)
    })?;
    Ok(Response::data(&subscription_view(&updated)))
}

/// `GET /api/v1/me/subscriptions`: each channel and what it subscribes to (`{"channels":
/// [{channel, subscribe_to_all_services, subscribed_service_ids, subscribed_group_ids}]}`).
///
/// # Errors
/// 401.
pub fn my_subscriptions(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let user = user(ctx)?;
    let channels: Vec<Value> = repo::list_for_user(ctx.db()?, user)?
        .iter()
        .map(|c| {
            let mut view = subscription_view(c);
            view["channel"] = serde_json::to_value(c).unwrap_or_default();
            view
        })
        .collect();
    Ok(Response::data(&json!({ "channels": channels })))
}

/// `POST /api/v1/me/subscriptions {service_ids}` (the old service's one subscription per
/// person): sets the services of every channel of the caller (none: all services); 200 in
/// the old shape `{id, user_id, service_ids, created_at}`.
///
/// # Errors
/// 401, 400.
pub fn set_all_subscriptions(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let user = user(ctx)?;
    let mut body = Body::parse(ctx.request)?;
    let services = body.optional_uuid_list("service_ids").unwrap_or_default();
    body.read_only(&["id", "user_id", "created_at"]);
    body.finish()?;
    let created = ctx.write(|db| {
        channels::check_choices(db, &services, &[])?;
        let mine = repo::list_for_user(db, user)?;
        for channel in &mine {
            repo::set_subscriptions(db, channel.id, services.is_empty(), &services, &[], ctx.now)?;
        }
        ctx.audit(
            db,
            crate::audit::Entry::new("subscriptions.replace", "user", user).after(json!({ "service_ids": services })),
        )?;
        Ok(mine.iter().map(|c| c.created_at).min().unwrap_or(ctx.now))
    })?;
    Ok(Response::data(&json!({
        "id": user, "user_id": user, "service_ids": services, "created_at": crate::time::format_rfc3339(created),
    })))
}

/// `DELETE /api/v1/me/subscriptions`: every channel of the caller back to all services; 204.
///
/// # Errors
/// 401.
pub fn reset_subscriptions(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let user = user(ctx)?;
    ctx.write(|db| {
        for channel in repo::list_for_user(db, user)? {
            repo::set_subscriptions(db, channel.id, true, &[], &[], ctx.now)?;
        }
        ctx.audit(db, crate::audit::Entry::new("subscriptions.reset", "user", user))
    })?;
    Ok(Response::no_content())
}

/// `GET /api/v1/notifications/config` (public): which channels this installation offers.
///
/// # Errors
/// 500 for a broken configuration.
pub fn config(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let config = ctx.config()?;
    let available: Vec<&str> =
        ChannelType::ALL.iter().filter(|t| channels::available(config, **t).is_ok()).map(|t| t.as_str()).collect();
    let mut data = json!({
        "available_channels": available,
        "public_signup": config.email_enabled(),
        "digests": ["immediate", "daily", "weekly"],
        "languages": ["en", "ru"],
    });
    if config.telegram_enabled() {
        data["telegram"] = json!({ "bot_username": config.telegram_bot_username });
    }
    if let Some(provider) = config.email_provider {
        data["email"] = json!({ "provider": provider });
    }
    Ok(Response::data(&data))
}

fn delivery_filter(request: &Request, errors: &mut Vec<FieldError>) -> DeliveryFilter {
    let status = request.query_param("status").and_then(|raw| {
        DeliveryStatus::parse(raw)
            .map(|s| s.as_str().to_owned())
            .map_err(|m| errors.push(FieldError::new("status", m)))
            .ok()
    });
    let kind = request.query_param("kind").and_then(|raw| {
        MessageKind::parse(raw).map(|k| k.as_str().to_owned()).map_err(|m| errors.push(FieldError::new("kind", m))).ok()
    });
    DeliveryFilter {
        status,
        event_id: uuid_query(request, "event_id", errors),
        channel_id: uuid_query(request, "channel_id", errors),
        kind,
    }
}

/// `GET /api/v1/notifications/deliveries` (admins): deliveries newest first, filtered by
/// `status`, `event_id`, `channel_id`, `kind`; paged.
///
/// # Errors
/// 401, 403, 400.
pub fn deliveries(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::ManageNotifications)?;
    parse::list(ctx, Listing::PAGED, delivery_filter, outbox::list)
}

/// `GET /api/v1/notifications/queue` (admins): what is waiting, the oldest waiting
/// delivery's age, the dead and the held.
///
/// # Errors
/// 401, 403.
pub fn queue(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::ManageNotifications)?;
    Ok(Response::data(&outbox::stats(ctx.db()?, ctx.now)?))
}

/// `POST /api/v1/notifications/deliveries/{id}/retry` (admins): a dead delivery back in the
/// queue with a fresh count of attempts, sent right after the response.
///
/// # Errors
/// 401, 403, 404, 409 `not_dead`.
pub fn retry(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::ManageNotifications)?;
    let id = path_id(ctx, "id")?;
    let delivery = ctx.write(|db| {
        let found = outbox::find(db, id)?.ok_or_else(|| ApiError::NotFound(format!("no delivery has id {id}")))?;
        if !outbox::retry(db, id, ctx.now)? {
            return Err(ApiError::Conflict {
                code: "not_dead",
                message: format!("only dead deliveries are retried; this one is {}", found.status.as_str()),
            });
        }
        ctx.audit(db, crate::audit::Entry::new("delivery.retry", "delivery", id).before(&found))?;
        outbox::find(db, id)?.ok_or_else(|| ApiError::NotFound("the delivery is gone".into()))
    })?;
    ctx.deliver_soon();
    Ok(Response::data(&delivery))
}

/// `POST /api/v1/telegram/webhook`: the bot's updates, authenticated by the
/// `X-Telegram-Bot-Api-Secret-Token` Telegram sends back (`telegram_webhook_secret`).
///
/// # Errors
/// 403 when Telegram is off or no secret is configured; 401 for a wrong secret; 400 for a
/// body that is not JSON.
pub fn telegram_webhook(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let config = ctx.config()?;
    if !config.telegram_enabled() || config.telegram_webhook_secret.is_empty() {
        return Err(ApiError::Forbidden(
            "the Telegram webhook is off: set telegram_bot_token and telegram_webhook_secret".into(),
        ));
    }
    let given = ctx.request.header("x-telegram-bot-api-secret-token").unwrap_or_default();
    if !crate::auth::tokens::hashes_equal(given, &config.telegram_webhook_secret) {
        return Err(ApiError::Unauthorized("wrong X-Telegram-Bot-Api-Secret-Token".into()));
    }
    let update: Value = serde_json::from_slice(&ctx.request.body).map_err(|e| ApiError::BadRequest {
        code: "malformed_json",
        message: format!("the update is not JSON: {e}"),
    })?;
    let handled = ctx.write(|db| Ok(crate::notify::telegram::handle(db, &update, ctx.now)?))?;
    if handled == crate::notify::telegram::Handled::Connected {
        ctx.deliver_soon();
    }
    Ok(Response::json(200, &json!({ "ok": true })))
}
