//! The page's identity, from the configuration: its name, description, logo and public URL.

use sha2::{Digest, Sha256};

use crate::config::Config;

/// What every public document says about the page itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// `page_title`.
    pub title: String,
    /// `page_description`.
    pub description: String,
    /// `page_logo_url` (empty: none).
    pub logo_url: String,
    /// `base_url`, without a trailing `/`.
    pub base_url: String,
}

impl Site {
    /// The site of a configuration.
    #[must_use]
    pub fn of(config: &Config) -> Self {
        Self {
            title: config.page_title.clone(),
            description: config.page_description.clone(),
            logo_url: config.page_logo_url.clone(),
            base_url: config.base_url.clone(),
        }
    }

    /// The absolute URL of `path` (which starts with `/`).
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The page's URL, as Statuspage's `page.url`.
    #[must_use]
    pub fn home(&self) -> String {
        self.url("/")
    }

    /// A stable page id (Statuspage's `page.id`): 12 hex digits of the public URL's SHA-256.
    #[must_use]
    pub fn page_id(&self) -> String {
        Sha256::digest(self.base_url.as_bytes()).iter().take(6).map(|b| format!("{b:02x}")).collect()
    }

    /// The host of the public URL (for iCalendar UIDs), `statuspage` when it has none.
    #[must_use]
    pub fn host(&self) -> &str {
        let rest = self.base_url.split_once("://").map_or(self.base_url.as_str(), |(_, r)| r);
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        if host.is_empty() { "statuspage" } else { host }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_ids_and_host_come_from_the_base_url() {
        let site = Site::of(&Config::with(&[("base_url", "https://status.example.com:8443/")]).expect("valid"));
        assert_eq!(site.url("/incidents/x"), "https://status.example.com:8443/incidents/x");
        assert_eq!(site.host(), "status.example.com");
        assert_eq!(site.page_id().len(), 12);
        assert_eq!(site.page_id(), site.clone().page_id(), "stable");
    }
}
