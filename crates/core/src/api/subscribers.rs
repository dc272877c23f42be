//! Public subscribers: `POST /api/v1/subscribers` (JSON, or the status page's form),
//! and the pages reached from e-mails: `/subscribers/confirm`, `/subscribers/manage`,
//! `/subscribers/unsubscribe` (RFC 8058 one-click). Every link opens a page with a button;
//! only the button's POST acts, so mail scanners that follow links change nothing.

use serde_json::json;
use uuid::Uuid;

use crate::app::Ctx;
use crate::domain::Email;
use crate::http::{ApiError, FieldError, Request, Response};
use crate::notify::model::{Channel, Digest};
use crate::notify::subscribers::{self, SignUp};
use crate::public::html::{self, Choice, Choices, FormView};
use crate::public::i18n::Lang;
use crate::public::site::Site;
use crate::repo::channels as repo;

/// The request's fields: JSON (`{"email", "service_ids": [...]}`) or a form
/// (`email=...&service_ids=...&service_ids=...`), as pairs. A JSON field outside `known` is a
/// 400 naming it (no change is silently dropped); a form's are ignored, as forms do.
fn fields(request: &Request, known: &[&str]) -> Result<Vec<(String, String)>, ApiError> {
    let form = request.header("content-type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if form {
        return Ok(form_urlencoded::parse(&request.body).into_owned().collect());
    }
    if request.body.is_empty() {
        return Ok(Vec::new());
    }
    let value: serde_json::Value = serde_json::from_slice(&request.body)
        .map_err(|e| ApiError::BadRequest { code: "malformed_json", message: format!("the body is not JSON: {e}") })?;
    let object = value.as_object().ok_or_else(|| ApiError::BadRequest {
        code: "malformed_json",
        message: "the body must be a JSON object".into(),
    })?;
    let unknown: Vec<FieldError> = object
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| FieldError::new(k.clone(), "is not a field of this request"))
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::Validation(unknown));
    }
    let mut pairs = Vec::new();
    for (key, value) in object {
        match value {
            serde_json::Value::Array(items) => {
                pairs.extend(
                    items.iter().map(|i| (key.clone(), i.as_str().map_or_else(|| i.to_string(), str::to_owned))),
                );
            }
            serde_json::Value::String(s) => pairs.push((key.clone(), s.clone())),
            serde_json::Value::Null => {}
            other => pairs.push((key.clone(), other.to_string())),
        }
    }
    Ok(pairs)
}

fn is_form(request: &Request) -> bool {
    request.header("content-type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
}

fn one<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn ids(fields: &[(String, String)], names: &[&str], errors: &mut Vec<FieldError>) -> Vec<Uuid> {
    let mut out = Vec::new();
    for (key, value) in fields.iter().filter(|(k, _)| names.contains(&k.as_str())) {
        match Uuid::parse_str(value) {
            Ok(id) => out.push(id),
            Err(_) => errors.push(FieldError::new(key.clone(), "must be a list of UUIDs")),
        }
    }
    out
}

/// Words of the subscriber pages.
struct Words {
    check_inbox: &'static str,
    check_inbox_text: &'static str,
    confirm: &'static str,
    confirm_text: &'static str,
    confirm_button: &'static str,
    confirmed: &'static str,
    confirmed_text: &'static str,
    manage: &'static str,
    manage_request_text: &'static str,
    manage_request_button: &'static str,
    manage_open_text: &'static str,
    manage_open_button: &'static str,
    manage_legend: &'static str,
    all_services: &'static str,
    digest_legend: &'static str,
    immediate: &'static str,
    daily: &'static str,
    weekly: &'static str,
    save: &'static str,
    saved: &'static str,
    unsubscribe: &'static str,
    unsubscribe_text: &'static str,
    unsubscribe_button: &'static str,
    unsubscribed: &'static str,
    problem: &'static str,
}

fn words(lang: Lang) -> &'static Words {
    static EN: Words = Words {
        check_inbox: "Check your inbox",
        check_inbox_text: "If the address can receive our messages, an e-mail with a link is on its way. Open it to go on.",
        confirm: "Confirm your subscription",
        confirm_text: "Press the button to start receiving status updates at this address.",
        confirm_button: "Confirm",
        confirmed: "You are subscribed",
        confirmed_text: "Every message has a link to change what you receive or to unsubscribe.",
        manage: "Manage your subscription",
        manage_request_text: "Enter your address and we will e-mail you a link that works once, within an hour.",
        manage_request_button: "Send me a link",
        manage_open_text: "Press the button to open your subscription's settings (the link then stops working).",
        manage_open_button: "Open my settings",
        manage_legend: "What to hear about",
        all_services: "Every service",
        digest_legend: "How often",
        immediate: "As it happens",
        daily: "A daily digest",
        weekly: "A weekly digest",
        save: "Save",
        saved: "Your subscription is saved",
        unsubscribe: "Unsubscribe",
        unsubscribe_text: "Press the button to stop receiving status updates.",
        unsubscribe_button: "Unsubscribe",
        unsubscribed: "You are unsubscribed",
        problem: "This did not work",
    };
    static RU: Words = Words {
        check_inbox: "Проверьте почту",
        check_inbox_text: "Если на этот адрес можно писать, письмо со ссылкой уже в пути. Откройте его, чтобы продолжить.",
        confirm: "Подтвердите подписку",
        confirm_text: "Нажмите кнопку, чтобы получать обновления на этот адрес.",
        confirm_button: "Подтвердить",
        confirmed: "Подписка оформлена",
        confirmed_text: "В каждом письме есть ссылка, чтобы изменить подписку или отписаться.",
        manage: "Управление подпиской",
        manage_request_text: "Укажите адрес, и мы пришлём ссылку, которая сработает один раз в течение часа.",
        manage_request_button: "Прислать ссылку",
        manage_open_text: "Нажмите кнопку, чтобы открыть настройки подписки (после этого ссылка перестанет работать).",
        manage_open_button: "Открыть настройки",
        manage_legend: "О чём сообщать",
        all_services: "Все сервисы",
        digest_legend: "Как часто",
        immediate: "Сразу",
        daily: "Ежедневная сводка",
        weekly: "Еженедельная сводка",
        save: "Сохранить",
        saved: "Подписка сохранена",
        unsubscribe: "Отписаться",
        unsubscribe_text: "Нажмите кнопку, чтобы больше не получать обновления.",
        unsubscribe_button: "Отписаться",
        unsubscribed: "Вы отписались",
        problem: "Не получилось",
    };
    match lang {
        Lang::En => &EN,
        Lang::Ru => &RU,
    }
}

/// The language the request asks for: the form's `language` or `lang` field, else `?lang=`.
fn chosen_lang(ctx: &Ctx<'_>) -> Option<Lang> {
    let field = is_form(ctx.request)
        .then(|| {
            form_urlencoded::parse(&ctx.request.body)
                .find(|(k, _)| k == "language" || k == "lang")
                .map(|(_, v)| v.into_owned())
        })
        .flatten();
    field.as_deref().or(ctx.request.query_param("lang")).and_then(Lang::from_tag)
}

/// The page's language: what the request asks for, else `Accept-Language`.
fn lang_of(ctx: &Ctx<'_>) -> Lang {
    chosen_lang(ctx).unwrap_or_else(|| Lang::negotiate(None, ctx.request.header("accept-language")))
}

/// The language of a page about `channel`: what the request asks for, else the subscriber's
/// own (a one-click POST from a mail client carries neither a field nor a header of theirs).
fn lang_for(ctx: &Ctx<'_>, channel_language: &str) -> Lang {
    chosen_lang(ctx).or_else(|| Lang::from_tag(channel_language)).unwrap_or_else(|| lang_of(ctx))
}

fn page(
    ctx: &Ctx<'_>,
    status: u16,
    heading: &str,
    paragraphs: Vec<String>,
    form: Option<FormView>,
) -> Result<Response, ApiError> {
    page_in(ctx, lang_of(ctx), status, heading, paragraphs, form)
}

fn page_in(
    ctx: &Ctx<'_>,
    lang: Lang,
    status: u16,
    heading: &str,
    paragraphs: Vec<String>,
    form: Option<FormView>,
) -> Result<Response, ApiError> {
    let site = Site::of(ctx.config()?);
    let path = ctx.request.path.clone();
    let body = html::subscriber_page(&site, lang, &path, heading, paragraphs, form);
    Ok(Response::with_body(status, "text/html; charset=utf-8", body)
        .with_header("cache-control", "no-store")
        .with_header("referrer-policy", "no-referrer"))
}

/// A 4xx as a page (for the flows a browser drives), or as JSON.
fn problem(ctx: &Ctx<'_>, error: ApiError) -> Result<Response, ApiError> {
    if error.status() >= 500 {
        return Err(error);
    }
    let message = match &error {
        ApiError::Validation(fields) => fields.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    };
    page(ctx, error.status(), words(lang_of(ctx)).problem, vec![message], None)
}

/// `POST /api/v1/subscribers {email, service_ids? (or components), group_ids?, language?}`:
/// 202 whatever the address's state (nothing tells whether it is subscribed); a confirmation
/// link, or for a confirmed address a manage link, goes to the address. From the status
/// page's form, the answer is a page.
///
/// # Errors
/// 400 (an address that is not one, unknown services or groups); 429 past the per-address
/// limit.
pub fn sign_up(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let form = is_form(ctx.request);
    let result = (|| {
        let fields = fields(ctx.request, &["email", "service_ids", "components", "group_ids", "language"])?;
        let mut errors = Vec::new();
        let email = match one(&fields, "email").map(Email::parse) {
            Some(Ok(email)) => Some(email),
            Some(Err(m)) => {
                errors.push(FieldError::new("email", m));
                None
            }
            None => {
                errors.push(FieldError::new("email", "is required"));
                None
            }
        };
        let service_ids = ids(&fields, &["service_ids", "components"], &mut errors);
        let group_ids = ids(&fields, &["group_ids"], &mut errors);
        let language = match one(&fields, "language") {
            Some(l @ ("en" | "ru")) => l.to_owned(),
            Some(_) => {
                errors.push(FieldError::new("language", "must be en or ru"));
                String::new()
            }
            None => lang_of(ctx).code().to_owned(),
        };
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let sign_up = SignUp {
            email: email.map(|e| e.as_str().to_owned()).unwrap_or_default(),
            language,
            service_ids,
            group_ids,
        };
        let site = Site::of(ctx.config()?);
        let queued = ctx.write(|db| Ok(subscribers::sign_up(db, &site, &sign_up, ctx.now)?))?;
        if queued {
            ctx.deliver_soon();
        }
        Ok(())
    })();
    let w = words(lang_of(ctx));
    match (result, form) {
        (Ok(()), true) => page(ctx, 200, w.check_inbox, vec![w.check_inbox_text.into()], None),
        (Ok(()), false) => Ok(Response::json(202, &json!({ "data": { "message": w.check_inbox_text } }))),
        (Err(e), true) => problem(ctx, e),
        (Err(e), false) => Err(e),
    }
}

/// `POST /api/v1/subscribers/confirm {token}`: confirms a subscription (or an account's e-mail
/// channel) by the token of its link.
///
/// # Errors
/// 400 `token`.
pub fn confirm_api(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let fields = fields(ctx.request, &["token"])?;
    let token = one(&fields, "token").ok_or_else(|| ApiError::invalid("token", "is required"))?.to_owned();
    let channel = ctx.write(|db| Ok(subscribers::confirm(db, &token, ctx.now)?))?;
    Ok(Response::data(&json!({ "message": "confirmed", "email": channel.target, "channel_id": channel.id })))
}

/// `GET /subscribers/confirm?token=`: the page with the confirm button.
///
/// # Errors
/// 500 only.
pub fn confirm_page(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let w = words(lang_of(ctx));
    let token = ctx.request.query_param("token").unwrap_or_default().to_owned();
    let form = FormView {
        action: "/subscribers/confirm".into(),
        hidden: vec![("token".into(), token), ("lang".into(), lang_of(ctx).code().into())],
        email: false,
        choices: None,
        submit: w.confirm_button.into(),
        submit_value: "confirm".into(),
        secondary: None,
    };
    page(ctx, 200, w.confirm, vec![w.confirm_text.into()], Some(form))
}

/// `POST /subscribers/confirm` (the button): confirms, and says so.
///
/// # Errors
/// 500 only (a bad link is a page).
pub fn confirm_submit(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let result = fields(ctx.request, &["token"]).and_then(|fields| {
        let token = one(&fields, "token").unwrap_or_default().to_owned();
        ctx.write(|db| Ok(subscribers::confirm(db, &token, ctx.now)?))
    });
    match result {
        Ok(channel) => {
            let lang = lang_for(ctx, &channel.language);
            let w = words(lang);
            page_in(ctx, lang, 200, w.confirmed, vec![w.confirmed_text.into()], None)
        }
        Err(e) => problem(ctx, e),
    }
}

/// `POST /api/v1/subscribers/manage {email}`: 202 whatever the address; a confirmed
/// subscriber gets a one-time link to the settings. From a form, the answer is a page.
///
/// # Errors
/// 400 for an address that is not one; 429 past the per-address limit.
pub fn request_manage(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let form = is_form(ctx.request);
    let w = words(lang_of(ctx));
    let result = fields(ctx.request, &["email"]).and_then(|fields| {
        let email =
            Email::parse(one(&fields, "email").unwrap_or_default()).map_err(|m| ApiError::invalid("email", m))?;
        let site = Site::of(ctx.config()?);
        ctx.write(|db| Ok(subscribers::request_manage(db, &site, email.as_str(), ctx.now)?))?;
        ctx.deliver_soon();
        Ok(())
    });
    match (result, form) {
        (Ok(()), true) => page(ctx, 200, w.check_inbox, vec![w.check_inbox_text.into()], None),
        (Ok(()), false) => Ok(Response::json(202, &json!({ "data": { "message": w.check_inbox_text } }))),
        (Err(e), true) => problem(ctx, e),
        (Err(e), false) => Err(e),
    }
}

/// `GET /subscribers/manage[?code=]`: without a code, the form asking for a link; with one,
/// the button that spends it.
///
/// # Errors
/// 500 only.
pub fn manage_page(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let (lang, w) = (lang_of(ctx), words(lang_of(ctx)));
    let form = match ctx.request.query_param("code") {
        None => FormView {
            action: format!("/api/v1/subscribers/manage?lang={}", lang.code()),
            hidden: vec![],
            email: true,
            choices: None,
            submit: w.manage_request_button.into(),
            submit_value: "request".into(),
            secondary: None,
        },
        Some(code) => FormView {
            action: format!("/subscribers/manage/open?lang={}", lang.code()),
            hidden: vec![("code".into(), code.to_owned())],
            email: false,
            choices: None,
            submit: w.manage_open_button.into(),
            submit_value: "open".into(),
            secondary: None,
        },
    };
    let text = if ctx.request.query_param("code").is_some() { w.manage_open_text } else { w.manage_request_text };
    page(ctx, 200, w.manage, vec![text.into()], Some(form))
}

fn choices(ctx: &Ctx<'_>, channel: &Channel) -> Result<Choices, ApiError> {
    let (lang, w) = (lang_of(ctx), words(lang_of(ctx)));
    let db = ctx.db()?;
    let window = crate::db::Window { limit: 1000, offset: 0 };
    let services = crate::repo::services::list_services(db, &crate::repo::services::ServiceFilter::default(), window)?;
    let groups = crate::repo::groups::list_groups(db, false, None, window)?;
    let choice = |id: Uuid, name: &str, chosen: &[Uuid]| Choice {
        value: id.to_string(),
        label: name.to_owned(),
        checked: chosen.contains(&id),
    };
    let digest =
        |d: Digest, label: &str| Choice { value: d.as_str().into(), label: label.into(), checked: channel.digest == d };
    Ok(Choices {
        legend: w.manage_legend.into(),
        all: channel.subscribe_to_all_services,
        all_label: w.all_services.into(),
        groups: groups.items.iter().map(|g| choice(g.id, &g.name, &channel.subscribed_group_ids)).collect(),
        services: services.items.iter().map(|s| choice(s.id, &s.name, &channel.subscribed_service_ids)).collect(),
        digest_legend: w.digest_legend.into(),
        digests: vec![
            digest(Digest::Immediate, w.immediate),
            digest(Digest::Daily, w.daily),
            digest(Digest::Weekly, w.weekly),
        ],
        languages: Lang::ALL
            .iter()
            .map(|l| Choice {
                value: l.code().into(),
                label: l.name().into(),
                checked: channel.language == l.code() || (lang == *l && channel.language.is_empty()),
            })
            .collect(),
    })
}

fn settings_form(ctx: &Ctx<'_>, channel: &Channel, session: String) -> Result<FormView, ApiError> {
    let w = words(lang_of(ctx));
    Ok(FormView {
        action: format!("/subscribers/manage?lang={}", lang_of(ctx).code()),
        hidden: vec![("session".into(), session)],
        email: false,
        choices: Some(choices(ctx, channel)?),
        submit: w.save.into(),
        submit_value: "save".into(),
        secondary: Some(("unsubscribe".into(), w.unsubscribe_button.into())),
    })
}

/// `POST /subscribers/manage/open {code}`: spends the one-time code and shows the settings
/// (the form carries a 30-minute session instead).
///
/// # Errors
/// 500 only (a bad code is a page).
pub fn manage_open(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let w = words(lang_of(ctx));
    let secret = ctx.config()?.jwt_secret.clone();
    let opened = fields(ctx.request, &["code"]).and_then(|fields| {
        let code = one(&fields, "code").unwrap_or_default().to_owned();
        ctx.write(|db| Ok(subscribers::open_manage(db, &secret, &code, ctx.now)?))
    });
    match opened {
        Ok((channel, session)) => {
            let form = settings_form(ctx, &channel, session)?;
            page(ctx, 200, w.manage, vec![channel.target.clone()], Some(form))
        }
        Err(e) => problem(ctx, e),
    }
}

/// `POST /subscribers/manage {session, all?, service_ids*, group_ids*, digest, language,
/// action = save | unsubscribe}`: saves the settings, or unsubscribes.
///
/// # Errors
/// 500 only (a bad session or choice is a page).
pub fn manage_save(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let w = words(lang_of(ctx));
    let config = ctx.config()?;
    let keys = config.jwt_keys();
    let result = fields(ctx.request, &["session", "service_ids", "group_ids", "digest", "language", "action", "all"])
        .and_then(|fields| {
            let session = one(&fields, "session").unwrap_or_default().to_owned();
            let mut errors = Vec::new();
            let services = ids(&fields, &["service_ids"], &mut errors);
            let groups = ids(&fields, &["group_ids"], &mut errors);
            let digest =
                one(&fields, "digest").map(Digest::parse).transpose().map_err(|m| ApiError::invalid("digest", m))?;
            let language = one(&fields, "language").filter(|l| *l == "en" || *l == "ru").map(str::to_owned);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            let unsubscribe = one(&fields, "action") == Some("unsubscribe");
            let all = one(&fields, "all") == Some("true") || (services.is_empty() && groups.is_empty());
            ctx.write(|db| {
                let channel = subscribers::session_channel(db, &keys, &session, ctx.now)?;
                if unsubscribe {
                    repo::delete(db, channel.id)?;
                    return Ok(true);
                }
                crate::notify::channels::check_choices(db, &services, &groups)?;
                repo::set_subscriptions(db, channel.id, all, &services, &groups, ctx.now)?;
                repo::update(db, channel.id, &repo::ChannelPatch { digest, language, ..Default::default() }, ctx.now)?;
                Ok(false)
            })
        });
    match result {
        Ok(true) => page(ctx, 200, w.unsubscribed, vec![], None),
        Ok(false) => page(ctx, 200, w.saved, vec![w.confirmed_text.into()], None),
        Err(e) => problem(ctx, e),
    }
}

/// `GET /subscribers/unsubscribe?token=`: the page with the unsubscribe button.
///
/// # Errors
/// 500 only.
pub fn unsubscribe_page(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let (lang, w) = (lang_of(ctx), words(lang_of(ctx)));
    let token = ctx.request.query_param("token").unwrap_or_default();
    let form = FormView {
        action: format!("/subscribers/unsubscribe?token={token}&lang={}", lang.code()),
        hidden: vec![],
        email: false,
        choices: None,
        submit: w.unsubscribe_button.into(),
        submit_value: "unsubscribe".into(),
        secondary: None,
    };
    page(ctx, 200, w.unsubscribe, vec![w.unsubscribe_text.into()], Some(form))
}

/// `POST /subscribers/unsubscribe?token=`: the one-click unsubscribe of RFC 8058 (mail clients
/// post `List-Unsubscribe=One-Click` here) and the page's button.
///
/// # Errors
/// 500 only (a bad link is a page).
pub fn unsubscribe_submit(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let w = words(lang_of(ctx));
    let token = ctx.request.query_param("token").unwrap_or_default().to_owned();
    let config = ctx.config()?;
    let keys = config.jwt_keys();
    match ctx.write(|db| Ok(subscribers::unsubscribe(db, &keys, &token, ctx.now)?)) {
        Ok(address) => page(ctx, 200, w.unsubscribed, vec![address], None),
        Err(e) => problem(ctx, e),
    }
}

/// `POST /api/v1/subscribers/unsubscribe {token}`: the same, as JSON.
///
/// # Errors
/// 400 `token`; 404 when it is gone already.
pub fn unsubscribe_api(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let fields = fields(ctx.request, &["token"])?;
    let token = one(&fields, "token").ok_or_else(|| ApiError::invalid("token", "is required"))?.to_owned();
    let config = ctx.config()?;
    let keys = config.jwt_keys();
    let address = ctx.write(|db| Ok(subscribers::unsubscribe(db, &keys, &token, ctx.now)?))?;
    Ok(Response::data(&json!({ "message": "unsubscribed", "email": address })))
}
