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
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print secrets.
        f.debug_struct("Config")
            .field("db_url", &if self.db_url.is_empty() { "<empty>" } else { "<set>" })
            .field("base_url", &self.base_url)
            .field("jwt_secret", &if self.jwt_secret.is_empty() { "<empty>" } else { "<set>" })
            .field("dev_seed", &self.dev_seed)
            .field("registration_enabled", &self.registration_enabled)
            .field("require_admin_totp", &self.require_admin_totp)
            .field("trust_proxy_headers", &self.trust_proxy_headers)
            .field("page_title", &self.page_title)
            .field("page_description", &self.page_description)
            .field("page_logo_url", &self.page_logo_url)
            .finish()
    }
}

/// Every variable [`Config`] reads, with the default `spin.toml` declares for it.
pub const VARIABLES: &[(&str, &str)] = &[
    ("db_url", "postgres://postgres@127.0.0.1:5432/statuspage?sslmode=disable"),
    ("base_url", "http://127.0.0.1:3000"),
    ("jwt_secret", ""),
    ("dev_seed", "false"),
    ("registration_enabled", "true"),
    ("require_admin_totp", "false"),
    ("trust_proxy_headers", "false"),
    ("page_title", "Service Status"),
    ("page_description", ""),
    ("page_logo_url", ""),
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
            dev_seed: read("dev_seed")?.boolean()?,
            registration_enabled: read("registration_enabled")?.boolean()?,
            require_admin_totp: read("require_admin_totp")?.boolean()?,
            trust_proxy_headers: read("trust_proxy_headers")?.boolean()?,
            page_title: read("page_title")?.value,
            page_description: read("page_description")?.value,
            page_logo_url: read("page_logo_url")?.url_or_path()?,
        })
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
