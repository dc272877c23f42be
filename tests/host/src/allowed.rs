//! `allowed_outbound_hosts`, matched literally as Spin does: `postgres://127.0.0.1:5432` does not
//! allow `localhost`. Supported forms: `scheme://host[:port]`, `*` for the scheme, the host or the
//! port, `*.suffix` hosts, and `http://self` (or `http://self.alt`) for calls to the app itself.

use anyhow::{Result, bail};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    scheme: String,
    host: String,
    port: Option<String>,
}

/// A component's allowed outbound destinations.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    rules: Vec<Rule>,
}

/// The port a scheme uses when none is written.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "postgres" => Some(5432),
        _ => None,
    }
}

impl AllowedHosts {
    /// Parses the rendered entries.
    ///
    /// # Errors
    /// An entry without a scheme, as `spin up` refuses it.
    pub fn parse(entries: &[String]) -> Result<Self> {
        let rules = entries
            .iter()
            .map(|entry| {
                let Some((scheme, rest)) = entry.split_once("://") else {
                    bail!("allowed_outbound_hosts entry {entry:?} has no scheme");
                };
                let rest = rest.trim_end_matches('/');
                let (host, port) = match rest.rsplit_once(':') {
                    Some((h, p)) if !h.is_empty() => (h.to_owned(), Some(p.to_owned())),
                    _ => (rest.to_owned(), None),
                };
                Ok(Rule { scheme: scheme.to_owned(), host, port })
            })
            .collect::<Result<_>>()?;
        Ok(Self { rules })
    }

    /// Whether `scheme://host:port` may be reached.
    #[must_use]
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.rules.iter().any(|rule| {
            let scheme_ok = rule.scheme == "*" || rule.scheme == scheme;
            let host_ok = rule.host == "*"
                || rule.host == host
                || rule.host.strip_prefix("*.").is_some_and(|suffix| host.ends_with(&format!(".{suffix}")));
            let port_ok = match &rule.port {
                Some(p) if p == "*" => true,
                Some(p) => p.parse::<u16>().ok() == Some(port),
                None => default_port(scheme) == Some(port),
            };
            scheme_ok && host_ok && port_ok && rule.host != "self" && rule.host != "self.alt"
        })
    }

    /// Whether the component may call the app itself (`http://self`).
    #[must_use]
    pub fn allows_self(&self) -> bool {
        self.rules.iter().any(|r| (r.host == "self" || r.host == "self.alt") && (r.scheme == "http" || r.scheme == "*"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>()).expect("valid")
    }

    #[test]
    fn matching_is_literal() {
        let allowed = hosts(&["postgres://127.0.0.1:5432", "https://api.telegram.org", "http://*.example.com:8080"]);
        let cases = [
            ("postgres", "127.0.0.1", 5432, true),
            ("postgres", "localhost", 5432, false),
            ("postgres", "127.0.0.1", 5433, false),
            ("https", "api.telegram.org", 443, true),
            ("http", "api.telegram.org", 80, false),
            ("http", "mail.example.com", 8080, true),
            ("http", "example.com", 8080, false),
        ];
        for (scheme, host, port, expected) in cases {
            assert_eq!(allowed.allows(scheme, host, port), expected, "{scheme}://{host}:{port}");
        }
        assert!(!allowed.allows_self());
        assert!(hosts(&["http://self"]).allows_self());
        assert!(!hosts(&["http://self"]).allows("http", "self", 80), "self is not a network host");
    }

    #[test]
    fn entries_need_a_scheme() {
        assert!(AllowedHosts::parse(&["127.0.0.1:5432".to_owned()]).is_err());
    }
}
