//! `allowed_outbound_hosts`, parsed and matched as Spin does
//! (`crates/outbound-networking-config/src/allowed_hosts.rs`, `AllowedHostConfig::parse` and
//! `allows`): `<scheme>://<host>[:<port>]` with `*` wildcards for each part, `*.suffix` hosts,
//! CIDR ranges, port ranges `a..b`, and `self` (or `self.alt`) for calls to the app itself.
//! Hosts match literally: `postgres://127.0.0.1:5432` does not allow `localhost`. An entry Spin
//! refuses stops the host at start with Spin's reason.

use std::ops::Range;

use anyhow::{Context, Result, bail, ensure};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Scheme {
    Any,
    One(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Any,
    /// `*.example.com`, stored as `.example.com`.
    AnySubdomain(String),
    ToSelf,
    Literal(url::Host),
    Cidr(ip_network::IpNetwork),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Port {
    Any,
    One(u16),
    Range(Range<u16>),
}

/// One entry of `allowed_outbound_hosts`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedHost {
    scheme: Scheme,
    host: Host,
    port: Port,
}

/// The port a scheme uses when none is written (Spin's `well_known_port`).
fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl AllowedHost {
    fn parse(entry: &str) -> Result<Self> {
        let url = entry.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            if matches!(url, "*" | ":" | "" | "?") {
                bail!(
                    "{url:?} is not an allowed outbound host format.\nHosts must be in the form <scheme>://<host>[:<port>], with '*' wildcards allowed for each."
                );
            }
            bail!("{url:?} does not contain a scheme (e.g., 'http://' or '*://')");
        };
        let (host, rest) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = match rest.split_once('/') {
            Some((_, path)) if !path.is_empty() => bail!("{url:?} has a path but is not allowed to"),
            Some((port, _)) => port,
            None => rest,
        };
        let port = parse_port(port, scheme).with_context(|| format!("Invalid allowed host port {port:?}"))?;
        let scheme = parse_scheme(scheme).with_context(|| format!("Invalid allowed host scheme {scheme:?}"))?;
        let host = parse_host(host).with_context(|| format!("Invalid allowed host {host:?}"))?;
        Ok(Self { scheme, host, port })
    }

    fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme_ok = match &self.scheme {
            Scheme::Any => true,
            Scheme::One(s) => s == scheme,
        };
        let Ok(host) = url::Host::parse(host) else { return false };
        let host_ok = match (&self.host, &host) {
            (Host::Any, _) => true,
            (Host::AnySubdomain(suffix), url::Host::Domain(domain)) => domain.ends_with(suffix.as_str()),
            (Host::Literal(literal), host) => host == literal,
            (Host::Cidr(net), url::Host::Ipv4(ip)) => net.contains(*ip),
            (Host::Cidr(net), url::Host::Ipv6(ip)) => net.contains(*ip),
            _ => false,
        };
        let port_ok = match &self.port {
            Port::Any => true,
            Port::One(p) => *p == port,
            Port::Range(range) => range.contains(&port),
        };
        scheme_ok && host_ok && port_ok
    }

    /// Spin's `allows_relative`: calls to the app itself over one of `schemes`.
    fn allows_relative(&self, schemes: &[&str]) -> bool {
        let scheme_ok = schemes.iter().any(|s| self.scheme == Scheme::Any || self.scheme == Scheme::One((*s).into()));
        scheme_ok && matches!(self.host, Host::Any | Host::ToSelf)
    }
}

fn parse_scheme(scheme: &str) -> Result<Scheme> {
    if scheme == "*" {
        return Ok(Scheme::Any);
    }
    ensure!(!scheme.starts_with('{'), "scheme lists are not supported");
    ensure!(scheme.chars().all(char::is_alphabetic), "only alphabetic characters are allowed");
    Ok(Scheme::One(scheme.to_owned()))
}

fn parse_host(host: &str) -> Result<Host> {
    let host = host.trim();
    if host == "*" {
        return Ok(Host::Any);
    }
    if host == "self" || host == "self.alt" {
        return Ok(Host::ToSelf);
    }
    if host.starts_with('{') {
        ensure!(host.ends_with('}'));
        bail!("host lists are not yet supported");
    }
    if let Ok(net) = ip_network::IpNetwork::from_str_truncate(host) {
        return Ok(Host::Cidr(net));
    }
    let host = host.trim_end_matches('/');
    ensure!(!host.contains('/'), "must not include a path");
    if let Some(domain) = host.strip_prefix("*.") {
        ensure!(!domain.contains('*'), "wildcards are allowed only as prefixes");
        return Ok(Host::AnySubdomain(format!(".{domain}")));
    }
    ensure!(!host.contains('*'), "wildcards are allowed only as subdomains");
    Ok(Host::Literal(url::Host::parse(host)?))
}

fn parse_port(port: &str, scheme: &str) -> Result<Port> {
    if port.is_empty() {
        return well_known_port(scheme).map(Port::One).with_context(|| {
            format!("no port was provided and the scheme {scheme:?} does not have a known default port number")
        });
    }
    if port == "*" {
        return Ok(Port::Any);
    }
    ensure!(!port.starts_with('{'), "port lists are not yet supported");
    if let Some((start, end)) = port.split_once("..") {
        let start = start.parse().with_context(|| format!("port range {port:?} contains non-number"))?;
        let end = end.parse().with_context(|| format!("port range {port:?} contains non-number"))?;
        return Ok(Port::Range(start..end));
    }
    Ok(Port::One(port.parse().with_context(|| format!("port {port:?} is not a number"))?))
}

/// A component's allowed outbound destinations.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    rules: Vec<AllowedHost>,
}

impl AllowedHosts {
    /// Parses the rendered entries as Spin does at start.
    ///
    /// # Errors
    /// The first entry Spin would refuse, with Spin's reason.
    pub fn parse(entries: &[String]) -> Result<Self> {
        if let [only] = entries
            && only == "insecure:allow-all"
        {
            bail!(
                "'insecure:allow-all' is not allowed - use '*://*:*' instead if you really want to allow all outbound traffic'"
            );
        }
        let rules = entries.iter().map(|e| AllowedHost::parse(e)).collect::<Result<_>>()?;
        Ok(Self { rules })
    }

    /// Whether `scheme://host:port` may be reached (the port already defaulted by scheme).
    #[must_use]
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.rules.iter().any(|rule| rule.allows(scheme, host, port))
    }

    /// Whether the component may call the app itself (`http://self.alt/...`).
    #[must_use]
    pub fn allows_self(&self) -> bool {
        self.rules.iter().any(|rule| rule.allows_relative(&["http", "https"]))
    }

    /// The port of `scheme` when a URL names none.
    #[must_use]
    pub fn default_port(scheme: &str) -> Option<u16> {
        well_known_port(scheme)
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
        let allowed = hosts(&[
            "postgres://127.0.0.1:5432",
            "https://api.telegram.org",
            "http://*.example.com:8080",
            "redis://10.0.0.0/8:6379",
            "http://127.0.0.1:9000..9010",
        ]);
        let cases = [
            ("postgres", "127.0.0.1", 5432, true),
            ("postgres", "localhost", 5432, false),
            ("postgres", "127.0.0.1", 5433, false),
            ("https", "api.telegram.org", 443, true),
            ("http", "api.telegram.org", 80, false),
            ("http", "mail.example.com", 8080, true),
            ("http", "example.com", 8080, false),
            ("redis", "10.1.2.3", 6379, true),
            ("redis", "11.1.2.3", 6379, false),
            ("http", "127.0.0.1", 9005, true),
            ("http", "127.0.0.1", 9010, false),
        ];
        for (scheme, host, port, expected) in cases {
            assert_eq!(allowed.allows(scheme, host, port), expected, "{scheme}://{host}:{port}");
        }
        assert!(!allowed.allows_self());
        assert!(hosts(&["http://self"]).allows_self());
        assert!(hosts(&["*://*:*"]).allows_self(), "Spin lets a full wildcard call the app too");
        assert!(!hosts(&["http://self"]).allows("http", "self", 80), "self is not a network host");
    }

    #[test]
    fn entries_spin_refuses() {
        let refused = [
            ("127.0.0.1:5432", "does not contain a scheme"),
            ("*", "is not an allowed outbound host format"),
            ("http://example.com:80/path", "has a path but is not allowed to"),
            ("http://example.com/path", "must not include a path"),
            ("ftp://example.com", "does not have a known default port number"),
            ("http://example.com:http", "is not a number"),
            ("h2c+x://example.com:80", "only alphabetic characters are allowed"),
            ("http://ex*ample.com", "wildcards are allowed only as subdomains"),
            ("http://{a,b}", "host lists are not yet supported"),
        ];
        for (entry, reason) in refused {
            let error = AllowedHosts::parse(&[entry.to_owned()]).map(|_| ()).map_err(|e| format!("{e:#}"));
            assert!(error.as_ref().is_err_and(|e| e.contains(reason)), "{entry}: {error:?}");
        }
        let all = AllowedHosts::parse(&["insecure:allow-all".to_owned()]).map(|_| ()).map_err(|e| e.to_string());
        assert!(all.is_err_and(|e| e.contains("'*://*:*'")));
    }
}
