//! The configuration: every Spin variable the code reads, parsed once per request into typed
//! fields, in one place. A component reads only the variables `spin.toml` maps to it; one it is
//! not given gets the same default `spin.toml` declares, so the defaults below and the manifest
//! must agree (a test checks they do).
//!
//! A value that does not parse (`require_admin_totp = "yes"`) is a [`ConfigError`] naming the
//! variable and the value: `/readyz` answers 503 with it, so a misconfigured deploy never
//! becomes ready, and every other request answers 500 and logs it.

use std::fmt;

/// What a variable lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The variable's value (possibly empty).
    Value(String),
    /// The component may not read it (`spin.toml` does not map it to this component).
    NotMapped,
    /// The platform could not read it (a variable provider failed).
    Failed(String),
}

/// A variable with a value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration: variable {name} {problem}, not {value:?}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// What it must be (`must be true or false`).
    pub problem: String,
    /// What it was.
    pub value: String,
}

/// The typed configuration of one component.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// PostgreSQL URL (a secret: it may carry a password).
    pub db_url: String,
    /// Public URL of the app (no trailing `/`), for links in e-mails and feeds.
    pub base_url: String,
    /// HS256 key for access tokens; empty where the component is not given it.
    pub jwt_secret: String,
    /// Keys rotated out of `jwt_secret`: what they signed still verifies.
    pub jwt_previous_secrets: Vec<String>,
    /// The development seed (accounts, demo catalog) is applied.
    pub dev_seed: bool,
    /// Self-service registration is open.
    pub registration_enabled: bool,
    /// Admins must have TOTP two-factor on before they may do anything but enrol.
    pub require_admin_totp: bool,
    /// The client address comes from `X-Forwarded-For`.
    pub trust_proxy_headers: bool,
    /// The public page's name (title, feeds, badges, Statuspage `page.name`).
    pub page_title: String,
    /// One line under the title (and the HTML `description` meta).
    pub page_description: String,
    /// A logo shown beside the title: `https://...`, `http://...` or a path on this host; empty
    /// for none.
    pub page_logo_url: String,
    /// The e-mail relay, when e-mail is on.
    pub email_provider: Option<EmailProvider>,
    /// The relay API's base URL (scheme and host; `allowed_outbound_hosts` names it too).
    pub email_api_base_url: String,
    /// The relay API key (a secret).
    pub email_api_key: String,
    /// The sender: `status@example.com` or `Example Status <status@example.com>`.
    pub email_from: String,
    /// The Telegram bot's token (a secret); empty: Telegram is off.
    pub telegram_bot_token: String,
    /// The Bot API's base URL.
    pub telegram_api_base_url: String,
    /// The bot's username, for `https://t.me/<bot>?start=...` links.
    pub telegram_bot_username: String,
    /// The secret Telegram sends back in `X-Telegram-Bot-Api-Secret-Token` (a secret).
    pub telegram_webhook_secret: String,
    /// The hosts webhook and Mattermost channels may call (an `allowed_outbound_hosts` entry);
    /// the default, a `.invalid` host, leaves them off.
    pub webhook_allowed_hosts: String,
    /// How long a webhook receiver may take to answer; relays and Telegram get at most 15 s.
    pub delivery_timeout_seconds: u32,
    /// Days delivered (or given-up) notifications, their messages and cleared alerts are kept.
    pub outbox_retention_days: u32,
    /// Single sign-on; `None` while `oidc_issuer` is empty.
    pub oidc: Option<Oidc>,
    /// Whether admins may sign in with a password (when SSO is on).
    pub password_login_for_admins: bool,
    /// The bearer token `/metrics` asks for (a secret); empty: `/metrics` is open.
    pub metrics_token: String,
    /// The rate limits as configured (`rate_limits`).
    pub rate_limits: crate::auth::ratelimit::RateLimits,
}

/// Single sign-on with OpenID Connect.
#[derive(Clone, PartialEq, Eq)]
pub struct Oidc {
    /// The issuer (its discovery document is `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    /// Our client id at the provider.
    pub client_id: String,
    /// Our client secret (a secret).
    pub client_secret: String,
    /// Where the provider sends people back.
    pub redirect_url: String,
    /// The claim roles are read from.
    pub role_claim: String,
    /// Claim value → role; values it does not name give `user`.
    pub role_map: Vec<(String, crate::auth::Role)>,
    /// E-mail domains allowed to sign in (lower case); empty: any.
    pub allowed_domains: Vec<String>,
    /// Whether a first sign-in makes an account.
    pub create_accounts: bool,
}

impl fmt::Debug for Oidc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &secret(&self.client_secret))
            .field("redirect_url", &self.redirect_url)
            .field("role_claim", &self.role_claim)
            .field("role_map", &self.role_map)
            .field("allowed_domains", &self.allowed_domains)
            .field("create_accounts", &self.create_accounts)
            .finish()
    }
}

/// An e-mail relay API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailProvider {
    /// Twilio SendGrid (`POST /v3/mail/send`).
    Sendgrid,
    /// Postmark (`POST /email/batch`).
    Postmark,
    /// Resend (`POST /emails/batch`).
    Resend,
    /// Mailgun (`POST /v3/<domain>/messages`).
    Mailgun,
}

impl Config {
    /// The signing keys that verify: the current one first, then the ones rotated out.
    #[must_use]
    pub fn jwt_keys(&self) -> Vec<&str> {
        std::iter::once(self.jwt_secret.as_str()).chain(self.jwt_previous_secrets.iter().map(String::as_str)).collect()
    }

    /// Whether e-mail can be sent.
    #[must_use]
    pub fn email_enabled(&self) -> bool {
        self.email_provider.is_some()
    }

    /// Whether Telegram can be used.
    #[must_use]
    pub fn telegram_enabled(&self) -> bool {
        !self.telegram_bot_token.is_empty() && !self.telegram_bot_username.is_empty()
    }

    /// How long a webhook receiver may take.
    #[must_use]
    pub fn webhook_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.delivery_timeout_seconds))
    }

    /// How long a relay or the Bot API may take (at most 15 s).
    #[must_use]
    pub fn api_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.delivery_timeout_seconds.min(15)))
    }

    /// Whether webhook and Mattermost channels may be made.
    #[must_use]
    pub fn webhooks_enabled(&self) -> bool {
        !self.webhook_allowed_hosts.ends_with(".invalid")
    }

    /// Whether `url` is a destination `webhook_allowed_hosts` lets webhook channels call.
    #[must_use]
    pub fn webhook_target_allowed(&self, url: &str) -> bool {
        crate::outbound::AllowedHost::parse(&self.webhook_allowed_hosts).is_some_and(|rule| rule.allows(url))
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print secrets.
        f.debug_struct("Config")
            .field("db_url", &if self.db_url.is_empty() { "<empty>" } else { "<set>" })
            .field("base_url", &self.base_url)
            .field("jwt_previous_secrets", &self.jwt_previous_secrets.len())
            .field("jwt_secret", &if self.jwt_secret.is_empty() { "<empty>" } else { "<set>" })
            .field("dev_seed", &self.dev_seed)
            .field("registration_enabled", &self.registration_enabled)
            .field("require_admin_totp", &self.require_admin_totp)
            .field("trust_proxy_headers", &self.trust_proxy_headers)
            .field("page_title", &self.page_title)
            .field("page_description", &self.page_description)
            .field("page_logo_url", &self.page_logo_url)
            .field("email_provider", &self.email_provider)
            .field("email_api_base_url", &self.email_api_base_url)
            .field("email_api_key", &secret(&self.email_api_key))
            .field("email_from", &self.email_from)
            .field("telegram_bot_token", &secret(&self.telegram_bot_token))
            .field("telegram_api_base_url", &self.telegram_api_base_url)
            .field("telegram_bot_username", &self.telegram_bot_username)
            .field("telegram_webhook_secret", &secret(&self.telegram_webhook_secret))
            .field("webhook_allowed_hosts", &self.webhook_allowed_hosts)
            .field("delivery_timeout_seconds", &self.delivery_timeout_seconds)
            .field("outbox_retention_days", &self.outbox_retention_days)
            .field("oidc", &self.oidc)
            .field("password_login_for_admins", &self.password_login_for_admins)
            .field("metrics_token", &secret(&self.metrics_token))
            .field("rate_limits", &self.rate_limits)
            .finish()
    }
}

fn secret(value: &str) -> &'static str {
    if value.is_empty() { "<empty>" } else { "<set>" }
}

/// Every variable [`Config`] reads, with the default `spin.toml` declares for it.
pub const VARIABLES: &[(&str, &str)] = &[
    ("db_url", "postgres://postgres@127.0.0.1:5432/statuspage?sslmode=disable"),
    ("base_url", "http://127.0.0.1:3000"),
    ("jwt_secret", ""),
    ("jwt_previous_secrets", ""),
    ("dev_seed", "false"),
    ("registration_enabled", "true"),
    ("require_admin_totp", "false"),
    ("trust_proxy_headers", "false"),
    ("page_title", "Service Status"),
    ("page_description", ""),
    ("page_logo_url", ""),
    ("email_provider", ""),
    ("email_api_base_url", "https://api.sendgrid.com"),
    ("email_api_key", ""),
    ("email_from", ""),
    ("telegram_bot_token", ""),
    ("telegram_api_base_url", "https://api.telegram.org"),
    ("telegram_bot_username", ""),
    ("telegram_webhook_secret", ""),
    ("webhook_allowed_hosts", "https://webhooks.invalid"),
    ("delivery_timeout_seconds", "30"),
    ("outbox_retention_days", "30"),
    ("oidc_issuer", ""),
    ("oidc_client_id", ""),
    ("oidc_client_secret", ""),
    ("oidc_redirect_url", ""),
    ("oidc_role_claim", "groups"),
    ("oidc_role_map", ""),
    ("oidc_allowed_domains", ""),
    ("oidc_create_accounts", "true"),
    ("oidc_allowed_hosts", "https://oidc.invalid"),
    ("password_login_for_admins", "true"),
    ("metrics_token", ""),
    ("rate_limits", ""),
];

impl Config {
    /// Reads every variable through `lookup`.
    ///
    /// # Errors
    /// The first variable whose value does not parse.
    pub fn load(lookup: impl Fn(&str) -> Lookup) -> Result<Self, ConfigError> {
        let read = |name: &'static str| -> Result<Raw, ConfigError> {
            let default = VARIABLES.iter().find(|(n, _)| *n == name).map_or("", |(_, d)| *d);
            match lookup(name) {
                Lookup::Value(v) if !v.trim().is_empty() => Ok(Raw { name, value: v.trim().to_owned() }),
                Lookup::Value(_) | Lookup::NotMapped => Ok(Raw { name, value: default.to_owned() }),
                Lookup::Failed(cause) => {
                    Err(ConfigError { name, problem: format!("could not be read ({cause})"), value: String::new() })
                }
            }
        };
        Ok(Self {
            db_url: read("db_url")?.value,
            base_url: read("base_url")?.value.trim_end_matches('/').to_owned(),
            jwt_secret: read("jwt_secret")?.value,
            jwt_previous_secrets: read("jwt_previous_secrets")?
                .value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            dev_seed: read("dev_seed")?.boolean()?,
            registration_enabled: read("registration_enabled")?.boolean()?,
            require_admin_totp: read("require_admin_totp")?.boolean()?,
            trust_proxy_headers: read("trust_proxy_headers")?.boolean()?,
            page_title: read("page_title")?.value,
            page_description: read("page_description")?.value,
            page_logo_url: read("page_logo_url")?.url_or_path()?,
            email_provider: read("email_provider")?.email_provider()?,
            email_api_base_url: read("email_api_base_url")?.base_url()?,
            email_api_key: read("email_api_key")?.value,
            email_from: read("email_from")?.value,
            telegram_bot_token: read("telegram_bot_token")?.value,
            telegram_api_base_url: read("telegram_api_base_url")?.base_url()?,
            telegram_bot_username: read("telegram_bot_username")?.value.trim_start_matches('@').to_owned(),
            telegram_webhook_secret: read("telegram_webhook_secret")?.value,
            webhook_allowed_hosts: read("webhook_allowed_hosts")?.value,
            delivery_timeout_seconds: read("delivery_timeout_seconds")?.seconds(1, 300)?,
            outbox_retention_days: read("outbox_retention_days")?.whole(1, 3650, "days")?,
            oidc: Self::oidc(&read, &read("base_url")?.value)?,
            password_login_for_admins: read("password_login_for_admins")?.boolean()?,
            metrics_token: read("metrics_token")?.value,
            rate_limits: {
                let raw = read("rate_limits")?;
                crate::auth::ratelimit::RateLimits::parse(&raw.value).map_err(|m| raw.error(&m))?
            },
        })
        .and_then(Self::consistent)
    }

    /// Single sign-on, when `oidc_issuer` is set.
    fn oidc(
        read: &impl Fn(&'static str) -> Result<Raw, ConfigError>,
        base_url: &str,
    ) -> Result<Option<Oidc>, ConfigError> {
        let issuer = read("oidc_issuer")?;
        if issuer.value.is_empty() {
            return Ok(None);
        }
        let issuer_url = issuer.url_or_path()?;
        if !issuer_url.starts_with("http") {
            return Err(issuer.error("must be the provider's https:// issuer URL"));
        }
        let client_id = read("oidc_client_id")?;
        if client_id.value.is_empty() {
            return Err(client_id.error("must be set when oidc_issuer is set"));
        }
        let redirect = read("oidc_redirect_url")?;
        let redirect_url = if redirect.value.is_empty() {
            format!("{}/api/v1/auth/oidc/callback", base_url.trim_end_matches('/'))
        } else {
            redirect.url_or_path()?
        };
        let map = read("oidc_role_map")?;
        let mut role_map = Vec::new();
        for pair in map.value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (value, role) = pair
                .rsplit_once('=')
                .ok_or_else(|| map.error(&format!("{pair:?} is not value=role (such as sre=operator)")))?;
            let role = crate::auth::Role::parse(role.trim())
                .map_err(|_| map.error(&format!("{pair:?}: the role must be user, operator or admin")))?;
            role_map.push((value.trim().to_owned(), role));
        }
        let domains = read("oidc_allowed_domains")?.value;
        Ok(Some(Oidc {
            issuer: issuer_url.trim_end_matches('/').to_owned(),
            client_id: client_id.value,
            client_secret: read("oidc_client_secret")?.value,
            redirect_url,
            role_claim: read("oidc_role_claim")?.value,
            role_map,
            allowed_domains: domains
                .split(',')
                .map(|d| d.trim().trim_start_matches('@').to_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
            create_accounts: read("oidc_create_accounts")?.boolean()?,
        }))
    }

    /// Settings that only make sense together.
    fn consistent(self) -> Result<Self, ConfigError> {
        let error = |name, problem: &str, value: &str| ConfigError {
            name,
            problem: problem.to_owned(),
            value: value.to_owned(),
        };
        if self.email_provider.is_some() && !self.email_from.contains('@') {
            return Err(error(
                "email_from",
                "must be an address (such as status@example.com) when email_provider is set",
                &self.email_from,
            ));
        }
        if self.email_provider.is_some() && self.email_api_key.is_empty() {
            return Err(error("email_api_key", "must be set when email_provider is set", ""));
        }
        // A short signing key would fail every sign-in with a 500; refuse it where /readyz says so.
        let min = crate::auth::tokens::MIN_SECRET_BYTES;
        if !self.jwt_secret.is_empty() && self.jwt_secret.len() < min {
            return Err(error("jwt_secret", &format!("must be at least {min} bytes (32 random bytes are best)"), ""));
        }
        if self.jwt_previous_secrets.iter().any(|s| s.len() < min) {
            return Err(error("jwt_previous_secrets", &format!("each must be at least {min} bytes"), ""));
        }
        Ok(self)
    }

    /// The configuration with every default and `overrides` (for tests and tools).
    ///
    /// # Errors
    /// An override that does not parse.
    pub fn with(overrides: &[(&str, &str)]) -> Result<Self, ConfigError> {
        Self::load(|name| match overrides.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => Lookup::Value((*value).to_owned()),
            None => Lookup::NotMapped,
        })
    }
}

struct Raw {
    name: &'static str,
    value: String,
}

impl Raw {
    /// `true` or `false`, nothing else (a typo must not silently mean `false`).
    fn boolean(&self) -> Result<bool, ConfigError> {
        match self.value.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(self.error("must be true or false")),
        }
    }

    /// Whole seconds from `min` to `max`.
    fn seconds(&self, min: u32, max: u32) -> Result<u32, ConfigError> {
        self.whole(min, max, "seconds")
    }

    /// A whole number of `unit` from `min` to `max`.
    fn whole(&self, min: u32, max: u32, unit: &str) -> Result<u32, ConfigError> {
        match self.value.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(self.error(&format!("must be a whole number of {unit} from {min} to {max}"))),
        }
    }

    /// Empty (e-mail off) or one of the relays.
    fn email_provider(&self) -> Result<Option<EmailProvider>, ConfigError> {
        match self.value.as_str() {
            "" => Ok(None),
            "sendgrid" => Ok(Some(EmailProvider::Sendgrid)),
            "postmark" => Ok(Some(EmailProvider::Postmark)),
            "resend" => Ok(Some(EmailProvider::Resend)),
            "mailgun" => Ok(Some(EmailProvider::Mailgun)),
            _ => Err(self.error("must be sendgrid, postmark, resend, mailgun, or empty for no e-mail")),
        }
    }

    /// `scheme://host[:port]`, no path (it is also an `allowed_outbound_hosts` entry).
    fn base_url(&self) -> Result<String, ConfigError> {
        let v = self.value.trim_end_matches('/');
        let rest = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://"));
        match rest {
            Some(host) if !host.is_empty() && !host.contains('/') => Ok(v.to_owned()),
            _ => Err(self.error("must be scheme://host[:port] with no path, such as https://api.sendgrid.com")),
        }
    }

    /// Empty, an `http(s)://` URL or an absolute path (nothing a browser would run, such as
    /// `javascript:`).
    fn url_or_path(&self) -> Result<String, ConfigError> {
        let v = self.value.as_str();
        let fine = v.is_empty()
            || v.starts_with("https://")
            || v.starts_with("http://")
            || (v.starts_with('/') && !v.starts_with("//"));
        if fine && !v.chars().any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>') {
            Ok(self.value.clone())
        } else {
            Err(self.error("must be an https:// or http:// URL or a path starting with /"))
        }
    }

    fn error(&self, problem: &str) -> ConfigError {
        ConfigError { name: self.name, problem: problem.to_owned(), value: self.value.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_parse_and_unmapped_variables_take_them() {
        let config = Config::with(&[]).expect("the defaults parse");
        assert!(!config.dev_seed && config.registration_enabled && !config.require_admin_totp);
        assert_eq!(config.base_url, "http://127.0.0.1:3000");
        let set = Config::with(&[("base_url", "https://status.example.com/"), ("require_admin_totp", "true")])
            .expect("valid values");
        assert_eq!((set.base_url.as_str(), set.require_admin_totp), ("https://status.example.com", true));
    }

    #[test]
    fn a_bad_value_names_the_variable_and_the_value() {
        let error = Config::with(&[("require_admin_totp", "yes")]).expect_err("not a boolean");
        assert_eq!(error.to_string(), "configuration: variable require_admin_totp must be true or false, not \"yes\"");
        let failed =
            Config::load(|n| if n == "jwt_secret" { Lookup::Failed("vault down".into()) } else { Lookup::NotMapped });
        assert!(failed.is_err_and(|e| e.to_string().contains("jwt_secret could not be read (vault down)")));
    }

    #[test]
    fn a_short_signing_key_is_refused_without_showing_it() {
        let short = Config::with(&[("jwt_secret", "hunter2")]).expect_err("7 bytes");
        assert!(short.to_string().contains("jwt_secret must be at least 16 bytes"), "{short}");
        assert!(!short.to_string().contains("hunter2"), "the secret never appears: {short}");
        let previous = Config::with(&[("jwt_secret", "a-long-enough-secret"), ("jwt_previous_secrets", "old")]);
        assert!(previous.is_err_and(|e| e.to_string().contains("jwt_previous_secrets")));
        assert!(Config::with(&[("jwt_secret", "a-long-enough-secret")]).is_ok());
    }

    #[test]
    fn the_logo_is_a_web_url_or_a_path() {
        for fine in ["", "https://cdn.example.com/logo.svg", "http://x/l.png", "/logo.svg"] {
            assert_eq!(Config::with(&[("page_logo_url", fine)]).expect(fine).page_logo_url, fine);
        }
        for bad in ["javascript:alert(1)", "//evil.example/x.png", "logo.png", "https://x/a b.png", "/\"><script>"] {
            let error = Config::with(&[("page_logo_url", bad)]).expect_err(bad);
            assert_eq!(error.name, "page_logo_url", "{bad}");
        }
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let config = Config::with(&[("jwt_secret", "hunter2-hunter2-hunter2"), ("db_url", "postgres://u:pw@h/d")])
            .expect("valid");
        let text = format!("{config:?}");
        assert!(!text.contains("hunter2") && !text.contains("pw@"), "{text}");
    }
}
