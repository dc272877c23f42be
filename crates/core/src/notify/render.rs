//! Every message text, in one place: for each kind, the subject and body in English and Russian,
//! written out as plain text and HTML (e-mail), Telegram's HTML subset and Mattermost markdown;
//! and the Statuspage-shaped JSON of webhooks. Links a recipient's copy needs of its own
//! (unsubscribe, manage) come in through [`Links`], so that one rendering serves a whole batch
//! with the relay substituting them.

use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::model::MessageKind;
use crate::domain::{Event, EventStatus, EventType, ServiceStatus};
use crate::public::i18n::Lang;
use crate::public::site::Site;

/// A recipient's own links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// One-click unsubscribe.
    pub unsubscribe: String,
    /// Change what to receive.
    pub manage: String,
}

/// A message in each form a channel needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// E-mail subject.
    pub subject: String,
    /// E-mail plain text (and the base of the others).
    pub text: String,
    /// E-mail HTML.
    pub html: String,
    /// Telegram (`parse_mode: HTML`: `<b>`, `<i>`, `<a>`, everything else escaped).
    pub telegram: String,
    /// Mattermost markdown.
    pub markdown: String,
}

/// The timeline entry an event message is about.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct UpdateFacts {
    /// Id.
    pub id: Uuid,
    /// The event's status with it.
    pub status: EventStatus,
    /// What was said.
    pub message: String,
    /// When.
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
}

/// What an event message is rendered from (its stored payload).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct EventFacts {
    /// The event as it was at the write.
    pub event: Event,
    /// The entry the write made (none for a cancellation).
    pub update: Option<UpdateFacts>,
}

/// One line of a digest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct DigestItem {
    /// What happened.
    pub kind: MessageKind,
    /// The event's facts.
    #[serde(flatten)]
    pub facts: EventFacts,
}

/// A paragraph of a message: plain text, or a link.
enum Part {
    /// A heading line (bold where the form has bold).
    Title(String),
    /// Text.
    Line(String),
    /// A quoted message.
    Quote(String),
    /// A labelled link.
    Link(String, String),
    /// The footer: why the recipient gets this, with the links.
    Footer(Option<Links>),
}

struct Message {
    subject: String,
    parts: Vec<Part>,
}

/// Renders `kind` from `payload` for a recipient reading `lang`.
///
/// # Errors
/// A payload that does not fit its kind (a programming error, reported on the delivery).
pub fn render(
    kind: MessageKind,
    payload: &Value,
    lang: Lang,
    site: &Site,
    links: Option<&Links>,
) -> Result<Rendered, String> {
    let message = compose(kind, payload, lang, site, links)?;
    Ok(Rendered {
        text: as_text(&message.parts, lang, site),
        html: as_html(&message.subject, &message.parts, lang, site),
        telegram: as_telegram(&message.parts, lang, site),
        markdown: as_markdown(&message.parts, lang, site),
        subject: message.subject,
    })
}

fn field<'a>(payload: &'a Value, name: &str) -> Result<&'a str, String> {
    payload[name].as_str().ok_or_else(|| format!("the message has no {name}"))
}

fn facts(payload: &Value) -> Result<EventFacts, String> {
    serde_json::from_value(payload.clone()).map_err(|e| format!("the message's event does not read: {e}"))
}

fn when(at: OffsetDateTime) -> String {
    crate::public::html::when(at)
}

fn event_url(site: &Site, event: &Event) -> String {
    site.url(&format!("/incidents/{}", event.id))
}

/// The subject's lead: what kind of news it is.
fn lead(kind: MessageKind, lang: Lang) -> &'static str {
    let ru = lang == Lang::Ru;
    match kind {
        MessageKind::IncidentCreated | MessageKind::IncidentUpdated => {
            if ru {
                "Инцидент"
            } else {
                "Incident"
            }
        }
        MessageKind::IncidentResolved => {
            if ru {
                "Решено"
            } else {
                "Resolved"
            }
        }
        MessageKind::MaintenanceScheduled => {
            if ru {
                "Плановые работы"
            } else {
                "Scheduled maintenance"
            }
        }
        MessageKind::MaintenanceUpdated => {
            if ru {
                "Обновление по работам"
            } else {
                "Maintenance update"
            }
        }
        MessageKind::MaintenanceStarted => {
            if ru {
                "Работы начались"
            } else {
                "Maintenance started"
            }
        }
        MessageKind::MaintenanceCompleted => {
            if ru {
                "Работы завершены"
            } else {
                "Maintenance completed"
            }
        }
        MessageKind::MaintenanceCancelled => {
            if ru {
                "Работы отменены"
            } else {
                "Maintenance cancelled"
            }
        }
        MessageKind::MaintenanceReminder => {
            if ru {
                "Напоминание о работах"
            } else {
                "Maintenance reminder"
            }
        }
        _ => "",
    }
}

fn event_parts(kind: MessageKind, facts: &EventFacts, lang: Lang, site: &Site) -> Vec<Part> {
    let (e, t) = (&facts.event, lang.text());
    let ru = lang == Lang::Ru;
    let mut parts = vec![Part::Title(e.title.clone())];
    let mut status = match &facts.update {
        Some(update) => lang.event_status(update.status).to_owned(),
        None if kind == MessageKind::MaintenanceCancelled => t.cancelled.to_owned(),
        None => lang.event_status(e.status).to_owned(),
    };
    if let Some(severity) = e.severity.filter(|_| e.event_type == EventType::Incident) {
        status.push_str(&format!(" · {}: {}", t.severity, lang.severity(severity)));
    }
    parts.push(Part::Line(status));
    if let (Some(start), Some(end)) = (e.scheduled_start_at, e.scheduled_end_at) {
        parts.push(Part::Line(format!("{}: {} – {}", t.window, when(start), when(end))));
    }
    if kind == MessageKind::MaintenanceReminder
        && let Some(start) = e.scheduled_start_at
    {
        parts.push(Part::Line(if ru {
            format!("Начало: {}", when(start))
        } else {
            format!("Starts at {}", when(start))
        }));
    }
    if let Some(update) = facts.update.as_ref().filter(|u| !u.message.is_empty()) {
        parts.push(Part::Quote(update.message.clone()));
    } else if !e.description.is_empty() {
        parts.push(Part::Quote(e.description.clone()));
    }
    if !e.affected_services.is_empty() {
        let names: Vec<String> =
            e.affected_services.iter().map(|a| format!("{} ({})", a.name, lang.service_status(a.status))).collect();
        parts.push(Part::Line(format!("{}: {}", t.affected, names.join(", "))));
    }
    parts.push(Part::Link(if ru { "Подробности".into() } else { "Details".into() }, event_url(site, e)));
    parts
}

fn compose(
    kind: MessageKind,
    payload: &Value,
    lang: Lang,
    site: &Site,
    links: Option<&Links>,
) -> Result<Message, String> {
    let ru = lang == Lang::Ru;
    let page = &site.title;
    let message = match kind {
        k if MessageKind::EVENT_KINDS.contains(&k) => {
            let facts = facts(payload)?;
            let status = match (&facts.update, k) {
                (
                    _,
                    MessageKind::IncidentResolved
                    | MessageKind::MaintenanceCancelled
                    | MessageKind::MaintenanceReminder,
                ) => None,
                (Some(update), MessageKind::IncidentCreated | MessageKind::IncidentUpdated) => {
                    Some(lang.event_status(update.status))
                }
                _ => None,
            };
            let subject = match status {
                Some(status) => format!("[{page}] {}: {} — {status}", lead(k, lang), facts.event.title),
                None => format!("[{page}] {}: {}", lead(k, lang), facts.event.title),
            };
            let mut parts = event_parts(k, &facts, lang, site);
            parts.push(Part::Footer(links.cloned()));
            Message { subject, parts }
        }
        MessageKind::ComponentUpdate => {
            let name = payload["service"]["name"].as_str().unwrap_or_default();
            let status = |key: &str| {
                payload[key]
                    .as_str()
                    .and_then(|s| ServiceStatus::parse(s).ok())
                    .map(|s| lang.service_status(s))
                    .unwrap_or_default()
            };
            let (old, new) = (status("old_status"), status("new_status"));
            Message {
                subject: format!("[{page}] {name}: {new}"),
                parts: vec![
                    Part::Title(name.to_owned()),
                    Part::Line(format!("{old} → {new}")),
                    Part::Footer(links.cloned()),
                ],
            }
        }
        MessageKind::Digest => {
            let items: Vec<DigestItem> = serde_json::from_value(payload["items"].clone())
                .map_err(|e| format!("the digest's items do not read: {e}"))?;
            let weekly = payload["period"] == "weekly";
            let title = match (ru, weekly) {
                (false, false) => "Daily digest",
                (false, true) => "Weekly digest",
                (true, false) => "Ежедневная сводка",
                (true, true) => "Еженедельная сводка",
            };
            let mut parts = vec![Part::Title(title.to_owned())];
            if items.is_empty() {
                parts.push(Part::Line(if ru {
                    "Ничего не произошло.".into()
                } else {
                    "Nothing happened.".into()
                }));
            }
            for item in &items {
                let status = item.facts.update.as_ref().map_or(item.facts.event.status, |u| u.status);
                let at = item.facts.update.as_ref().map_or(item.facts.event.updated_at, |u| u.created_at);
                parts.push(Part::Line(format!(
                    "{} · {} · {}: {}",
                    when(at),
                    lead(item.kind, lang),
                    item.facts.event.title,
                    lang.event_status(status)
                )));
                parts.push(Part::Link(
                    if ru { "Подробности".into() } else { "Details".into() },
                    event_url(site, &item.facts.event),
                ));
            }
            parts.push(Part::Footer(links.cloned()));
            Message { subject: format!("[{page}] {title}"), parts }
        }
        MessageKind::ChannelVerification => {
            let code = field(payload, "code")?;
            let minutes = payload["expires_in_minutes"].as_i64().unwrap_or(15);
            let (subject, intro, link) = if ru {
                (
                    format!("[{page}] Код подтверждения: {code}"),
                    format!("Код для подтверждения адреса: {code} (действует {minutes} мин)."),
                    "Подтвердить по ссылке",
                )
            } else {
                (
                    format!("[{page}] Your verification code: {code}"),
                    format!("Your code to verify this address: {code} (valid for {minutes} minutes)."),
                    "Or confirm with this link",
                )
            };
            Message {
                subject,
                parts: vec![Part::Line(intro), Part::Link(link.into(), field(payload, "confirm_url")?.to_owned())],
            }
        }
        MessageKind::SubscriberConfirmation => {
            let (subject, intro, link) = if ru {
                (
                    format!("[{page}] Подтвердите подписку"),
                    format!(
                        "Кто-то (надеемся, вы) подписал этот адрес на обновления «{page}». Если это были не вы, просто проигнорируйте письмо."
                    ),
                    "Подтвердить подписку",
                )
            } else {
                (
                    format!("[{page}] Confirm your subscription"),
                    format!(
                        "Someone (we hope you) subscribed this address to {page} status updates. If it was not you, ignore this message."
                    ),
                    "Confirm the subscription",
                )
            };
            Message {
                subject,
                parts: vec![Part::Line(intro), Part::Link(link.into(), field(payload, "confirm_url")?.to_owned())],
            }
        }
        MessageKind::SubscriberManage => {
            let (subject, intro, link) = if ru {
                (
                    format!("[{page}] Управление подпиской"),
                    "Ссылка действует один раз в течение часа.".to_owned(),
                    "Изменить подписку",
                )
            } else {
                (
                    format!("[{page}] Manage your subscription"),
                    "The link works once, within an hour.".to_owned(),
                    "Change your subscription",
                )
            };
            Message {
                subject,
                parts: vec![Part::Line(intro), Part::Link(link.into(), field(payload, "manage_url")?.to_owned())],
            }
        }
        MessageKind::PasswordReset => {
            let minutes = payload["expires_in_minutes"].as_i64().unwrap_or(60);
            let (subject, intro, link) = if ru {
                (
                    format!("[{page}] Сброс пароля"),
                    format!(
                        "Ссылка для сброса пароля действует {minutes} мин. Если вы не просили сброс, ничего не делайте."
                    ),
                    "Задать новый пароль",
                )
            } else {
                (
                    format!("[{page}] Reset your password"),
                    format!(
                        "This link resets your password within {minutes} minutes. If you did not ask for it, do nothing."
                    ),
                    "Choose a new password",
                )
            };
            Message {
                subject,
                parts: vec![Part::Line(intro), Part::Link(link.into(), field(payload, "reset_url")?.to_owned())],
            }
        }
        MessageKind::ChannelTest => Message {
            subject: format!("[{page}] {}", if ru { "Тестовое сообщение" } else { "Test message" }),
            parts: vec![Part::Line(if ru {
                format!("Этот канал будет получать обновления «{page}».")
            } else {
                format!("This channel will receive {page} status updates.")
            })],
        },
        MessageKind::TelegramConnected => Message {
            subject: String::new(),
            parts: vec![Part::Line(if ru {
                format!("Готово: этот чат будет получать обновления «{page}».")
            } else {
                format!("Done: this chat will receive {page} status updates.")
            })],
        },
        MessageKind::ChannelDisabled => {
            let (target, reason) = (field(payload, "target")?, field(payload, "reason")?);
            let (subject, intro) = if ru {
                (
                    format!("[{page}] Канал уведомлений отключён"),
                    format!("Канал {target} больше не получает уведомлений: {reason}"),
                )
            } else {
                (
                    format!("[{page}] A notification channel stopped"),
                    format!("The channel {target} no longer receives notifications: {reason}"),
                )
            };
            Message {
                subject,
                parts: vec![
                    Part::Line(intro),
                    Part::Link(
                        if ru { "Каналы".into() } else { "Your channels".into() },
                        site.url("/api/v1/me/channels"),
                    ),
                ],
            }
        }
        MessageKind::OperatorAlert | MessageKind::OperatorAlertCleared => {
            let cleared = kind == MessageKind::OperatorAlertCleared;
            let detail = alert_detail(payload, cleared, lang)?;
            let subject = match (ru, cleared) {
                (false, false) => format!("[{page}] Notification deliveries need attention"),
                (false, true) => format!("[{page}] Notification deliveries are back to normal"),
                (true, false) => format!("[{page}] Доставка уведомлений требует внимания"),
                (true, true) => format!("[{page}] Доставка уведомлений восстановлена"),
            };
            Message {
                subject,
                parts: vec![
                    Part::Line(detail.to_owned()),
                    Part::Link(
                        if ru { "Доставки".into() } else { "Deliveries".into() },
                        site.url("/api/v1/notifications/deliveries"),
                    ),
                ],
            }
        }
        other => return Err(format!("{} is not rendered as a message", other.as_str())),
    };
    Ok(message)
}

/// What an operator alert says: `{episode: stalled | dead_letters, count, minutes}`.
fn alert_detail(payload: &Value, cleared: bool, lang: Lang) -> Result<String, String> {
    let count = payload["count"].as_i64().unwrap_or_default();
    let minutes = payload["minutes"].as_i64().unwrap_or_default();
    let one = count == 1;
    Ok(match (field(payload, "episode")?, cleared, lang) {
        ("stalled", false, Lang::En) => format!(
            "{count} {} waiting; the oldest was queued {minutes} minutes ago. Check the mail relay, Telegram and the scheduler.",
            if one { "delivery is" } else { "deliveries are" }
        ),
        ("stalled", false, Lang::Ru) => format!(
            "Ожидают отправки: {count}; самая старая — {minutes} мин. Проверьте почтовый релей, Telegram и планировщик."
        ),
        ("stalled", true, Lang::En) => "Deliveries are flowing again: nothing has waited more than ten minutes.".into(),
        ("stalled", true, Lang::Ru) => "Доставка снова идёт: ничего не ждёт дольше десяти минут.".into(),
        ("dead_letters", false, Lang::En) => format!(
            "{count} {} in the last 24 hours: see the dead ones and retry them.",
            if one { "delivery died" } else { "deliveries died" }
        ),
        ("dead_letters", false, Lang::Ru) => {
            format!("Не доставлено за сутки: {count}. Посмотрите эти доставки и отправьте их повторно.")
        }
        ("dead_letters", true, Lang::En) => "No delivery has died in the last 24 hours.".into(),
        ("dead_letters", true, Lang::Ru) => "За последние сутки ни одна доставка не провалилась.".into(),
        (other, ..) => return Err(format!("{other} is not a delivery-trouble episode")),
    })
}

fn footer_text(lang: Lang, site: &Site) -> String {
    match lang {
        Lang::En => format!("You get this because you subscribed to {} status updates.", site.title),
        Lang::Ru => format!("Вы получили это письмо, потому что подписаны на обновления «{}».", site.title),
    }
}

fn footer_labels(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::En => ("Manage", "Unsubscribe"),
        Lang::Ru => ("Управлять", "Отписаться"),
    }
}

fn as_text(parts: &[Part], lang: Lang, site: &Site) -> String {
    let mut out = Vec::new();
    for part in parts {
        match part {
            Part::Title(t) | Part::Line(t) => out.push(t.clone()),
            Part::Quote(q) => out.push(format!("\n{q}\n")),
            Part::Link(label, url) => out.push(format!("{label}: {url}")),
            Part::Footer(links) => {
                out.push(format!("\n-- \n{}", footer_text(lang, site)));
                if let Some(links) = links {
                    let (manage, unsubscribe) = footer_labels(lang);
                    out.push(format!("{manage}: {}\n{unsubscribe}: {}", links.manage, links.unsubscribe));
                }
            }
        }
    }
    out.join("\n")
}

/// Escapes text for HTML (and Telegram's HTML subset).
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn as_html(subject: &str, parts: &[Part], lang: Lang, site: &Site) -> String {
    let mut body = String::new();
    for part in parts {
        match part {
            Part::Title(t) => body.push_str(&format!("<h1 style=\"font-size:20px;margin:0 0 8px\">{}</h1>\n", escape(t))),
            Part::Line(t) => body.push_str(&format!("<p style=\"margin:4px 0\">{}</p>\n", escape(t))),
            Part::Quote(q) => body.push_str(&format!(
                "<p style=\"margin:12px 0;padding:8px 12px;border-left:4px solid #d0d7de;white-space:pre-line\">{}</p>\n",
                escape(q)
            )),
            Part::Link(label, url) => {
                body.push_str(&format!("<p style=\"margin:8px 0\"><a href=\"{}\">{}</a></p>\n", escape(url), escape(label)));
            }
            Part::Footer(links) => {
                body.push_str(&format!(
                    "<hr style=\"border:0;border-top:1px solid #d0d7de;margin:24px 0 8px\">\n<p style=\"font-size:13px;color:#57606a\">{}",
                    escape(&footer_text(lang, site))
                ));
                if let Some(links) = links {
                    let (manage, unsubscribe) = footer_labels(lang);
                    body.push_str(&format!(
                        "<br><a href=\"{}\">{manage}</a> · <a href=\"{}\">{unsubscribe}</a>",
                        escape(&links.manage),
                        escape(&links.unsubscribe)
                    ));
                }
                body.push_str("</p>\n");
            }
        }
    }
    format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body style=\"font-family:system-ui,sans-serif;color:#1f2328;max-width:40em;margin:0 auto;padding:16px\">\n{body}</body></html>\n",
        lang.code(),
        escape(subject)
    )
}

fn as_telegram(parts: &[Part], lang: Lang, site: &Site) -> String {
    let mut out = Vec::new();
    for part in parts {
        match part {
            Part::Title(t) => out.push(format!("<b>{}</b>", escape(t))),
            Part::Line(t) => out.push(escape(t)),
            Part::Quote(q) => out.push(format!("<i>{}</i>", escape(q))),
            Part::Link(label, url) => out.push(format!("<a href=\"{}\">{}</a>", escape(url), escape(label))),
            Part::Footer(_) => out.push(format!("\n{}", escape(&footer_text(lang, site)))),
        }
    }
    out.join("\n")
}

/// Escapes Mattermost (and Slack) markdown's special characters.
fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '_' | '`' | '~' | '[' | ']' | '<' | '>' | '#' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn as_markdown(parts: &[Part], lang: Lang, site: &Site) -> String {
    let mut out = Vec::new();
    for part in parts {
        match part {
            Part::Title(t) => out.push(format!("**{}**", md_escape(t))),
            Part::Line(t) => out.push(md_escape(t)),
            Part::Quote(q) => out.push(q.lines().map(|l| format!("> {}", md_escape(l))).collect::<Vec<_>>().join("\n")),
            Part::Link(label, url) => out.push(format!("[{}]({url})", md_escape(label))),
            Part::Footer(_) => out.push(format!("_{}_", md_escape(&footer_text(lang, site)))),
        }
    }
    out.join("\n")
}

/// The JSON a webhook channel receives, in Statuspage's webhook shape: `{meta, page,
/// incident}` for event messages, `{meta, page, component_update, component}` for a service's
/// status change, `{meta, page, ping}` for the test delivery.
///
/// # Errors
/// A payload that does not fit its kind.
pub fn webhook_body(kind: MessageKind, payload: &Value, site: &Site, unsubscribe: &str) -> Result<Value, String> {
    let meta =
        json!({ "unsubscribe": unsubscribe, "documentation": site.url("/api/openapi.yaml"), "kind": kind.as_str() });
    let page = |indicator: &str, description: &str| {
        json!({ "id": site.page_id(), "name": site.title, "url": site.home(),
                "status_indicator": indicator, "status_description": description })
    };
    match kind {
        k if MessageKind::EVENT_KINDS.contains(&k) => {
            let facts = facts(payload)?;
            let e = &facts.event;
            let incident = json!({
                "id": e.id,
                "name": e.title,
                "status": e.status.as_str(),
                "impact": match (e.event_type, e.severity) {
                    (EventType::Maintenance, _) => "maintenance",
                    (EventType::Incident, Some(s)) => s.as_str(),
                    (EventType::Incident, None) => "none",
                },
                "created_at": crate::time::format_rfc3339(e.created_at),
                "updated_at": crate::time::format_rfc3339(e.updated_at),
                "monitoring_at": e.monitoring_at.map(crate::time::format_rfc3339),
                "resolved_at": e.resolved_at.map(crate::time::format_rfc3339),
                "scheduled_for": e.scheduled_start_at.map(crate::time::format_rfc3339),
                "scheduled_until": e.scheduled_end_at.map(crate::time::format_rfc3339),
                "shortlink": event_url(site, e),
                "page_id": site.page_id(),
                "incident_updates": facts.update.iter().map(|u| json!({
                    "id": u.id, "incident_id": e.id, "status": u.status.as_str(), "body": u.message,
                    "created_at": crate::time::format_rfc3339(u.created_at),
                    "updated_at": crate::time::format_rfc3339(u.created_at),
                    "display_at": crate::time::format_rfc3339(u.created_at),
                })).collect::<Vec<_>>(),
                "components": e.affected_services.iter().map(|a| json!({
                    "id": a.service_id, "name": a.name,
                    "status": crate::public::statuspage::component_status(a.status),
                })).collect::<Vec<_>>(),
            });
            Ok(json!({ "meta": meta, "page": page("", ""), "incident": incident }))
        }
        MessageKind::ComponentUpdate => {
            let status = |key: &str| payload[key].as_str().and_then(|s| ServiceStatus::parse(s).ok());
            let (old, new) = (status("old_status"), status("new_status"));
            let name = |s: Option<ServiceStatus>| s.map(crate::public::statuspage::component_status);
            Ok(json!({
                "meta": meta,
                "page": page("", ""),
                "component_update": {
                    "created_at": payload["at"], "old_status": name(old), "new_status": name(new),
                    "id": payload["id"], "component_id": payload["service"]["id"],
                },
                "component": {
                    "id": payload["service"]["id"], "name": payload["service"]["name"],
                    "status": name(new), "created_at": payload["at"],
                },
            }))
        }
        MessageKind::ChannelTest => {
            Ok(json!({ "meta": meta, "page": page("none", "All Systems Operational"), "ping": true }))
        }
        other => Err(format!("{} is not sent to webhooks", other.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        Site::of(
            &crate::config::Config::with(&[
                ("page_title", "Acme <Status>"),
                ("base_url", "https://status.example.com"),
            ])
            .expect("config"),
        )
    }

    fn event(event_type: EventType) -> Event {
        serde_json::from_value(json!({
            "id": "00000000-0000-0000-0000-000000000001", "type": event_type, "status": "investigating",
            "severity": if event_type == EventType::Incident { json!("major") } else { Value::Null },
            "title": "API <errors> & more", "description": "Some requests fail.", "notify_subscribers": true,
            "scheduled_start_at": if event_type == EventType::Maintenance { json!("2026-12-05T02:00:00.000Z") } else { Value::Null },
            "scheduled_end_at": if event_type == EventType::Maintenance { json!("2026-12-05T04:00:00.000Z") } else { Value::Null },
            "auto_transition": true, "started_at": null, "monitoring_at": null, "resolved_at": null, "created_by": null,
            "created_at": "2026-12-01T10:00:00.000Z", "updated_at": "2026-12-01T10:00:00.000Z",
            "affected_services": [{"service_id": "00000000-0000-0000-0000-000000000002", "name": "API", "slug": "api", "status": "partial_outage"}],
            "service_ids": ["00000000-0000-0000-0000-000000000002"], "group_ids": [], "template_id": null
        }))
        .expect("event")
    }

    fn payload_for(kind: MessageKind) -> Value {
        let event_type =
            if kind.as_str().starts_with("maintenance") { EventType::Maintenance } else { EventType::Incident };
        let update = json!({"id": "00000000-0000-0000-0000-000000000003", "status": if event_type == EventType::Incident { "investigating" } else { "scheduled" },
                            "message": "We are *on* it <now>.", "created_at": "2026-12-01T10:00:00.000Z"});
        match kind {
            MessageKind::Digest => {
                json!({"period": "daily", "items": [{"kind": "incident_created", "event": event(EventType::Incident), "update": update}]})
            }
            MessageKind::ComponentUpdate => {
                json!({"id": "x", "service": {"id": "s", "name": "API"}, "old_status": "operational", "new_status": "major_outage", "at": "2026-12-01T10:00:00.000Z"})
            }
            MessageKind::ChannelVerification => {
                json!({"code": "123456", "confirm_url": "https://status.example.com/subscribers/confirm?token=t", "expires_in_minutes": 15})
            }
            MessageKind::SubscriberConfirmation => {
                json!({"confirm_url": "https://status.example.com/subscribers/confirm?token=t"})
            }
            MessageKind::SubscriberManage => {
                json!({"manage_url": "https://status.example.com/subscribers/manage?code=c"})
            }
            MessageKind::PasswordReset => {
                json!({"reset_url": "https://status.example.com/reset-password?token=t", "expires_in_minutes": 60})
            }
            MessageKind::ChannelDisabled => json!({"target": "ops@example.com", "reason": "the address bounced"}),
            MessageKind::OperatorAlert | MessageKind::OperatorAlertCleared => {
                json!({"episode": "dead_letters", "count": 12, "minutes": 0})
            }
            MessageKind::ChannelTest | MessageKind::TelegramConnected => json!({}),
            _ => {
                json!({"event": event(event_type), "update": if kind == MessageKind::MaintenanceCancelled { Value::Null } else { update }})
            }
        }
    }

    const ALL: [MessageKind; 20] = [
        MessageKind::IncidentCreated,
        MessageKind::IncidentUpdated,
        MessageKind::IncidentResolved,
        MessageKind::MaintenanceScheduled,
        MessageKind::MaintenanceUpdated,
        MessageKind::MaintenanceStarted,
        MessageKind::MaintenanceCompleted,
        MessageKind::MaintenanceCancelled,
        MessageKind::MaintenanceReminder,
        MessageKind::ComponentUpdate,
        MessageKind::Digest,
        MessageKind::ChannelVerification,
        MessageKind::SubscriberConfirmation,
        MessageKind::SubscriberManage,
        MessageKind::PasswordReset,
        MessageKind::ChannelTest,
        MessageKind::ChannelDisabled,
        MessageKind::OperatorAlert,
        MessageKind::OperatorAlertCleared,
        MessageKind::TelegramConnected,
    ];

    #[test]
    fn every_kind_renders_in_every_form_and_language_with_everything_escaped() {
        let links = Links { unsubscribe: "https://u.example/x?a=1&b=2".into(), manage: "https://m.example/y".into() };
        for kind in ALL {
            assert_eq!(MessageKind::parse(kind.as_str()), Ok(kind));
            for lang in Lang::ALL {
                let r = render(kind, &payload_for(kind), lang, &site(), Some(&links))
                    .unwrap_or_else(|e| panic!("{kind:?} {lang:?}: {e}"));
                let name = format!("{kind:?} in {lang:?}");
                assert!(!r.text.is_empty() && !r.telegram.is_empty() && !r.markdown.is_empty(), "{name}");
                assert!(r.html.contains(&format!("<html lang=\"{}\">", lang.code())), "{name}");
                assert!(
                    !r.html.contains("<errors>") && !r.html.contains("Acme <Status>"),
                    "{name}: HTML escapes: {}",
                    r.html
                );
                assert!(!r.telegram.contains("<errors>") && !r.telegram.contains("<now>"), "{name}: Telegram escapes");
                if MessageKind::EVENT_KINDS.contains(&kind) || kind == MessageKind::Digest {
                    assert!(
                        r.text.contains("https://status.example.com/incidents/00000000-0000-0000-0000-000000000001"),
                        "{name}: the link"
                    );
                    assert!(
                        r.text.contains(&links.unsubscribe) && r.html.contains("https://u.example/x?a=1&amp;b=2"),
                        "{name}: unsubscribe"
                    );
                }
                if MessageKind::EVENT_KINDS.contains(&kind) {
                    assert!(r.subject.contains("API <errors> & more"), "{name}: {}", r.subject);
                    assert!(
                        r.text.contains(&format!("API ({})", lang.service_status(ServiceStatus::PartialOutage))),
                        "{name}: affected"
                    );
                }
            }
        }
        let ru =
            render(MessageKind::IncidentCreated, &payload_for(MessageKind::IncidentCreated), Lang::Ru, &site(), None)
                .expect("ru");
        assert_eq!(ru.subject, "[Acme <Status>] Инцидент: API <errors> & more — Расследуем");
        let md =
            render(MessageKind::IncidentCreated, &payload_for(MessageKind::IncidentCreated), Lang::En, &site(), None)
                .expect("md")
                .markdown;
        assert!(md.contains("We are \\*on\\* it \\<now\\>."), "{md}");
    }

    #[test]
    fn webhooks_get_the_statuspage_shapes() {
        let body = webhook_body(
            MessageKind::IncidentCreated,
            &payload_for(MessageKind::IncidentCreated),
            &site(),
            "https://u",
        )
        .expect("incident");
        assert_eq!(body["incident"]["name"], "API <errors> & more");
        assert_eq!(body["incident"]["impact"], "major");
        assert_eq!(body["incident"]["components"][0]["status"], "partial_outage");
        assert_eq!(body["incident"]["incident_updates"][0]["body"], "We are *on* it <now>.");
        assert_eq!(body["meta"]["unsubscribe"], "https://u");
        let component = webhook_body(
            MessageKind::ComponentUpdate,
            &payload_for(MessageKind::ComponentUpdate),
            &site(),
            "https://u",
        )
        .expect("component");
        assert_eq!(component["component_update"]["new_status"], "major_outage");
        assert_eq!(component["component"]["name"], "API");
        assert!(webhook_body(MessageKind::PasswordReset, &json!({}), &site(), "").is_err());
    }
}
