//! The wire formats of everything that delivers: the e-mail relays' batch APIs (SendGrid,
//! Postmark, Resend, Mailgun), the Telegram Bot API's `sendMessage`, signed outgoing webhooks
//! and Mattermost incoming webhooks; and what each answer means for each delivery (sent, try
//! again later, or never: with the channel disabled when the address itself is the problem).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::render::{Links, Rendered, escape};
use crate::config::{Config, EmailProvider};
use crate::outbound::{OutError, OutRequest, OutResponse};

/// The longest Telegram message (the API's limit is 4,096 characters).
const TELEGRAM_MAX: usize = 4000;

/// Placeholders for a recipient's own links in a rendering shared by a batch.
pub const UNSUBSCRIBE_MARK: &str = "-sp-unsubscribe-";
/// See [`UNSUBSCRIBE_MARK`].
pub const MANAGE_MARK: &str = "-sp-manage-";

/// The placeholders, as [`Links`] to render with.
#[must_use]
pub fn marks() -> Links {
    Links { unsubscribe: UNSUBSCRIBE_MARK.to_owned(), manage: MANAGE_MARK.to_owned() }
}

/// What an answer means for one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by the far side.
    Sent,
    /// Not now: try again (after `after`, when the far side said).
    Retry {
        /// What went wrong.
        reason: String,
        /// The far side's `Retry-After` / `retry_after`.
        after: Option<Duration>,
    },
    /// Never: the delivery is dead; `disable` when the address itself is the problem (a bounce,
    /// a blocked bot, a receiver that is gone), so the channel stops receiving.
    Permanent {
        /// What went wrong.
        reason: String,
        /// Whether to disable the channel.
        disable: bool,
    },
}

/// One e-mail recipient of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The delivery row.
    pub delivery: Uuid,
    /// The address.
    pub to: String,
    /// Its own links (none for direct mail such as a password reset).
    pub links: Option<Links>,
}

/// A rendering and the recipients it goes to (the same message, in the same language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailBatch {
    /// Rendered with [`marks`] where each recipient's links go.
    pub message: Rendered,
    /// Who.
    pub recipients: Vec<Recipient>,
}

/// How many recipients a provider takes in one call.
#[must_use]
pub fn batch_limit(provider: EmailProvider) -> usize {
    match provider {
        EmailProvider::Sendgrid | EmailProvider::Mailgun => 1000,
        EmailProvider::Postmark => 500,
        EmailProvider::Resend => 100,
    }
}

/// `Name <address>` split into its parts.
fn sender(from: &str) -> (Option<&str>, &str) {
    match (from.find('<'), from.rfind('>')) {
        (Some(open), Some(close)) if open < close => {
            let name = from[..open].trim().trim_matches('"');
            ((!name.is_empty()).then_some(name), from[open + 1..close].trim())
        }
        _ => (None, from.trim()),
    }
}

fn substitute(text: &str, links: Option<&Links>, html: bool) -> String {
    match links {
        Some(links) if html => {
            text.replace(UNSUBSCRIBE_MARK, &escape(&links.unsubscribe)).replace(MANAGE_MARK, &escape(&links.manage))
        }
        Some(links) => text.replace(UNSUBSCRIBE_MARK, &links.unsubscribe).replace(MANAGE_MARK, &links.manage),
        None => text.to_owned(),
    }
}

fn unsubscribe_headers(links: Option<&Links>) -> Vec<(&'static str, String)> {
    links.map_or_else(Vec::new, |l| {
        vec![
            ("List-Unsubscribe", format!("<{}>", l.unsubscribe)),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_owned()),
        ]
    })
}

/// The relay request for `batch` (at most [`batch_limit`] recipients).
#[must_use]
pub fn email_request(config: &Config, provider: EmailProvider, batch: &EmailBatch) -> OutRequest {
    let base = &config.email_api_base_url;
    let (name, address) = sender(&config.email_from);
    let m = &batch.message;
    match provider {
        EmailProvider::Sendgrid => {
            let personalizations: Vec<Value> = batch
                .recipients
                .iter()
                .map(|r| {
                    let mut p = json!({ "to": [{ "email": r.to }] });
                    if let Some(links) = &r.links {
                        p["headers"] = unsubscribe_headers(Some(links))
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), Value::String(v)))
                            .collect();
                        p["substitutions"] = json!({ UNSUBSCRIBE_MARK: links.unsubscribe, MANAGE_MARK: links.manage });
                    }
                    p
                })
                .collect();
            let mut from = json!({ "email": address });
            if let Some(name) = name {
                from["name"] = name.into();
            }
            let body = json!({
                "personalizations": personalizations,
                "from": from,
                "subject": m.subject,
                "content": [{ "type": "text/plain", "value": m.text }, { "type": "text/html", "value": m.html }],
            });
            OutRequest::post_json(format!("{base}/v3/mail/send"), &body, config.api_timeout())
                .header("authorization", format!("Bearer {}", config.email_api_key))
        }
        EmailProvider::Postmark => {
            let messages: Vec<Value> = batch
                .recipients
                .iter()
                .map(|r| {
                    let headers: Vec<Value> = unsubscribe_headers(r.links.as_ref())
                        .into_iter()
                        .map(|(k, v)| json!({ "Name": k, "Value": v }))
                        .collect();
                    json!({
                        "From": config.email_from, "To": r.to, "Subject": m.subject,
                        "TextBody": substitute(&m.text, r.links.as_ref(), false),
                        "HtmlBody": substitute(&m.html, r.links.as_ref(), true),
                        "Headers": headers, "MessageStream": "outbound",
                    })
                })
                .collect();
            OutRequest::post_json(format!("{base}/email/batch"), &Value::Array(messages), config.api_timeout())
                .header("accept", "application/json")
                .header("x-postmark-server-token", config.email_api_key.clone())
        }
        EmailProvider::Resend => {
            let messages: Vec<Value> = batch
                .recipients
                .iter()
                .map(|r| {
                    let headers: serde_json::Map<String, Value> = unsubscribe_headers(r.links.as_ref())
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), Value::String(v)))
                        .collect();
                    json!({
                        "from": config.email_from, "to": [r.to], "subject": m.subject,
                        "text": substitute(&m.text, r.links.as_ref(), false),
                        "html": substitute(&m.html, r.links.as_ref(), true),
                        "headers": headers,
                    })
                })
                .collect();
            // The same deliveries retried carry the same key, so Resend sends them once.
            let mut ids: Vec<String> = batch.recipients.iter().map(|r| r.delivery.to_string()).collect();
            ids.sort();
            let key: String = Sha256::digest(ids.join(",")).iter().take(16).map(|b| format!("{b:02x}")).collect();
            OutRequest::post_json(format!("{base}/emails/batch"), &Value::Array(messages), config.api_timeout())
                .header("authorization", format!("Bearer {}", config.email_api_key))
                .header("idempotency-key", key)
        }
        EmailProvider::Mailgun => {
            let domain = address.rsplit('@').next().unwrap_or_default();
            let mark = |text: &str| {
                text.replace(UNSUBSCRIBE_MARK, "%recipient.unsubscribe%").replace(MANAGE_MARK, "%recipient.manage%")
            };
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("from", &config.email_from).append_pair("subject", &m.subject);
            let mut variables = serde_json::Map::new();
            for r in &batch.recipients {
                form.append_pair("to", &r.to);
                let links = r.links.clone().unwrap_or(Links { unsubscribe: String::new(), manage: String::new() });
                variables.insert(r.to.clone(), json!({ "unsubscribe": links.unsubscribe, "manage": links.manage }));
            }
            form.append_pair("text", &mark(&m.text)).append_pair("html", &mark(&m.html));
            // Recipient variables make Mailgun send each recipient their own copy.
            form.append_pair("recipient-variables", &Value::Object(variables).to_string());
            if batch.recipients.iter().any(|r| r.links.is_some()) {
                form.append_pair("h:List-Unsubscribe", "<%recipient.unsubscribe%>");
                form.append_pair("h:List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
            }
            OutRequest {
                method: "POST",
                url: format!("{base}/v3/{domain}/messages"),
                headers: vec![
                    ("content-type".to_owned(), "application/x-www-form-urlencoded".to_owned()),
                    (
                        "authorization".to_owned(),
                        format!("Basic {}", STANDARD.encode(format!("api:{}", config.email_api_key))),
                    ),
                ],
                body: form.finish().into_bytes(),
                timeout: config.api_timeout(),
            }
        }
    }
}

fn retry_after(response: &OutResponse) -> Option<Duration> {
    response.header("retry-after").and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs)
}

/// What an HTTP answer means when nothing more specific applies: 2xx sent; 408, 425, 429 and
/// 5xx try again; a relay's 401/403 is our credentials (try again; operators are alerted by
/// the queue's age); other 4xx never (the request itself is wrong).
fn generic(response: &Result<OutResponse, OutError>, who: &str) -> Outcome {
    match response {
        Ok(r) if (200..300).contains(&r.status) => Outcome::Sent,
        Ok(r) if matches!(r.status, 408 | 425 | 429) || r.status >= 500 => Outcome::Retry {
            reason: format!("{who} answered {}: {}", r.status, body_excerpt(r)),
            after: retry_after(r),
        },
        Ok(r) if matches!(r.status, 401 | 403) => Outcome::Retry {
            reason: format!("{who} refused the credentials ({}): {}", r.status, body_excerpt(r)),
            after: None,
        },
        Ok(r) => Outcome::Permanent {
            reason: format!("{who} refused the request ({}): {}", r.status, body_excerpt(r)),
            disable: false,
        },
        Err(e) => Outcome::Retry { reason: format!("{who}: {e}"), after: None },
    }
}

fn body_excerpt(response: &OutResponse) -> String {
    let text = String::from_utf8_lossy(&response.body);
    text.chars().take(300).collect()
}

/// Each recipient's outcome of an e-mail batch request.
#[must_use]
pub fn email_outcomes(provider: EmailProvider, response: &Result<OutResponse, OutError>, count: usize) -> Vec<Outcome> {
    let who = match provider {
        EmailProvider::Sendgrid => "SendGrid",
        EmailProvider::Postmark => "Postmark",
        EmailProvider::Resend => "Resend",
        EmailProvider::Mailgun => "Mailgun",
    };
    if provider == EmailProvider::Postmark
        && let Ok(r) = response
        && r.status == 200
        && let Value::Array(results) = r.json()
        && results.len() == count
    {
        // Postmark answers per message: 0 is accepted; 406 (inactive recipient: bounced or
        // complained) and 300 (invalid address) are the address's fault.
        return results
            .iter()
            .map(|item| match item["ErrorCode"].as_i64() {
                Some(0) => Outcome::Sent,
                Some(code @ (300 | 406)) => Outcome::Permanent {
                    reason: format!(
                        "Postmark refused the address ({code}): {}",
                        item["Message"].as_str().unwrap_or_default()
                    ),
                    disable: true,
                },
                code => Outcome::Retry {
                    reason: format!("Postmark error {code:?}: {}", item["Message"].as_str().unwrap_or_default()),
                    after: None,
                },
            })
            .collect();
    }
    vec![generic(response, who); count]
}

/// The Telegram `sendMessage` request.
#[must_use]
pub fn telegram_request(config: &Config, chat: &str, html: &str) -> OutRequest {
    let text: String = if html.chars().count() > TELEGRAM_MAX {
        let cut: String = html.chars().take(TELEGRAM_MAX).collect();
        // Never cut an entity or a tag in half: drop back to the last complete character.
        let safe =
            cut.rfind(['&', '<']).filter(|i| !cut[*i..].contains([';', '>'])).map_or(cut.as_str(), |i| &cut[..i]);
        format!("{safe}…")
    } else {
        html.to_owned()
    };
    let body =
        json!({ "chat_id": chat, "text": text, "parse_mode": "HTML", "link_preview_options": { "is_disabled": true } });
    OutRequest::post_json(
        format!("{}/bot{}/sendMessage", config.telegram_api_base_url, config.telegram_bot_token),
        &body,
        config.api_timeout(),
    )
}

/// What a Bot API answer means: 429 waits `parameters.retry_after`; a blocked bot, a
/// deactivated user or a missing chat disables the channel.
#[must_use]
pub fn telegram_outcome(response: &Result<OutResponse, OutError>) -> Outcome {
    let Ok(r) = response else { return generic(response, "Telegram") };
    let body = r.json();
    let description = body["description"].as_str().unwrap_or_default().to_owned();
    match r.status {
        200 if body["ok"] == true => Outcome::Sent,
        429 => Outcome::Retry {
            reason: format!("Telegram: {description}"),
            after: body["parameters"]["retry_after"].as_u64().map(Duration::from_secs).or_else(|| retry_after(r)),
        },
        403 => Outcome::Permanent { reason: format!("Telegram: {description}"), disable: true },
        400 if description.contains("chat not found") || description.contains("user is deactivated") => {
            Outcome::Permanent { reason: format!("Telegram: {description}"), disable: true }
        }
        _ => generic(response, "Telegram"),
    }
}

/// The `X-StatusPage-Signature` of `body` sent at `timestamp`: `sha256=` and the hex
/// HMAC-SHA256, under the channel's secret, of `<timestamp>.<body>`.
#[must_use]
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// A signed webhook delivery.
#[must_use]
pub fn webhook_request(
    (url, secret): (&str, &str),
    kind: &str,
    delivery: Uuid,
    body: &Value,
    (timestamp, timeout): (i64, Duration),
) -> OutRequest {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    OutRequest {
        method: "POST",
        url: url.to_owned(),
        headers: vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("user-agent".to_owned(), "StatusPage-Webhooks/1".to_owned()),
            ("x-statuspage-event".to_owned(), kind.to_owned()),
            ("x-statuspage-delivery".to_owned(), delivery.to_string()),
            ("x-statuspage-timestamp".to_owned(), timestamp.to_string()),
            ("x-statuspage-signature".to_owned(), signature(secret, timestamp, &bytes)),
        ],
        body: bytes,
        timeout,
    }
}

/// A Mattermost (or Slack) incoming-webhook post.
#[must_use]
pub fn mattermost_request(url: &str, markdown: &str, username: &str, timeout: Duration) -> OutRequest {
    OutRequest::post_json(url.to_owned(), &json!({ "text": markdown, "username": username }), timeout)
}

/// What a webhook receiver's answer means: 2xx sent; 410 Gone (and, for Mattermost, 404: the
/// hook was deleted) disables the channel; a destination the configuration does not allow
/// disables it too; anything else tries again.
#[must_use]
pub fn webhook_outcome(response: &Result<OutResponse, OutError>, mattermost: bool) -> Outcome {
    match response {
        Ok(r) if (200..300).contains(&r.status) => Outcome::Sent,
        Ok(r) if r.status == 410 || (mattermost && r.status == 404) => {
            Outcome::Permanent { reason: format!("the receiver answered {}: it is gone", r.status), disable: true }
        }
        Ok(r) => Outcome::Retry {
            reason: format!("the receiver answered {}: {}", r.status, body_excerpt(r)),
            after: retry_after(r),
        },
        Err(OutError::Denied(_)) => Outcome::Permanent {
            reason: "the receiver's host is not allowed by webhook_allowed_hosts".to_owned(),
            disable: true,
        },
        Err(e) => Outcome::Retry { reason: format!("the receiver: {e}"), after: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::OutResponse;

    fn ok(status: u16, body: Value) -> Result<OutResponse, OutError> {
        Ok(OutResponse { status, headers: vec![], body: body.to_string().into_bytes() })
    }

    #[test]
    fn senders_split_into_name_and_address() {
        assert_eq!(sender("Acme Status <status@acme.test>"), (Some("Acme Status"), "status@acme.test"));
        assert_eq!(sender("status@acme.test"), (None, "status@acme.test"));
    }

    #[test]
    fn answers_map_to_outcomes() {
        assert_eq!(generic(&ok(202, json!({})), "x"), Outcome::Sent);
        assert!(matches!(generic(&ok(503, json!({})), "x"), Outcome::Retry { .. }));
        assert!(matches!(generic(&ok(400, json!({})), "x"), Outcome::Permanent { disable: false, .. }));
        let postmark =
            ok(200, json!([{"ErrorCode": 0}, {"ErrorCode": 406, "Message": "inactive"}, {"ErrorCode": 1000}]));
        let outcomes = email_outcomes(EmailProvider::Postmark, &postmark, 3);
        assert_eq!(outcomes[0], Outcome::Sent);
        assert!(matches!(outcomes[1], Outcome::Permanent { disable: true, .. }));
        assert!(matches!(outcomes[2], Outcome::Retry { .. }));
        let flood = ok(
            429,
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}}),
        );
        assert_eq!(
            telegram_outcome(&flood),
            Outcome::Retry {
                reason: "Telegram: Too Many Requests: retry after 7".into(),
                after: Some(Duration::from_secs(7))
            }
        );
        let blocked =
            ok(403, json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}));
        assert!(matches!(telegram_outcome(&blocked), Outcome::Permanent { disable: true, .. }));
        assert!(matches!(webhook_outcome(&ok(410, json!({})), false), Outcome::Permanent { disable: true, .. }));
        assert!(matches!(
            webhook_outcome(&Err(OutError::Timeout(Duration::from_secs(30))), false),
            Outcome::Retry { .. }
        ));
    }

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        let a = signature("secret", 1_700_000_000, b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 71);
        assert_ne!(a, signature("secret", 1_700_000_001, b"{}"));
        assert_ne!(a, signature("secret", 1_700_000_000, b"{ }"));
    }

    #[test]
    fn long_telegram_messages_are_cut_on_a_boundary() {
        let config = crate::config::Config::with(&[]).expect("config");
        let long = "a&amp;".repeat(1000);
        let request = telegram_request(&config, "1", &long);
        let text =
            serde_json::from_slice::<Value>(&request.body).expect("json")["text"].as_str().expect("text").to_owned();
        assert!(text.ends_with('…') && text.chars().count() <= TELEGRAM_MAX + 1);
        assert!(!text.trim_end_matches('…').ends_with('&') && !text.contains("&am…"), "{}", &text[text.len() - 20..]);
    }
}
