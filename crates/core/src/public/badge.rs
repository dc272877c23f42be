//! Badges: `/badge.svg` (the page), `/badge/{slug}.svg` (a service), drawn by `badge-maker-rs`
//! in Shields' flat style; and `/badge/{slug}.json`, the Shields endpoint format
//! (`https://img.shields.io/endpoint?url=...`) for those who draw them through shields.io.

use badge_maker_rs::{BadgeOptions, Color, NamedColor, make_badge};
use serde_json::json;

use super::document::{Document, Freshness};
use super::i18n::Lang;
use super::model::{Indicator, Snapshot};
use super::site::Site;
use crate::domain::ServiceStatus;

/// Every badge: `(path, document)`.
#[must_use]
pub fn documents(snapshot: &Snapshot, site: &Site) -> Vec<(String, Document)> {
    let indicator = snapshot.indicator();
    let mut docs =
        vec![("/badge.svg".to_owned(), svg(&site.title, indicator.description(), indicator_color(indicator)))];
    for service in &snapshot.services {
        let status = service.effective_status;
        let message = Lang::En.service_status(status).to_ascii_lowercase();
        docs.push((format!("/badge/{}.svg", service.slug), svg(&service.name, &message, status_color(status))));
        let endpoint = json!({
            "schemaVersion": 1,
            "label": service.name,
            "message": message,
            "color": status_color(status).as_str(),
        });
        let body = serde_json::to_vec(&endpoint).unwrap_or_default();
        docs.push((
            format!("/badge/{}.json", service.slug),
            Document::new("application/json", Freshness::POLLED, body),
        ));
    }
    docs
}

fn svg(label: &str, message: &str, color: NamedColor) -> Document {
    let options = BadgeOptions::new(message).label(label).color(Color::from(color)).build();
    // Rendering fails only for an invalid id suffix, which we never set; an empty badge then.
    let body = make_badge(&options).unwrap_or_default();
    Document::new("image/svg+xml", Freshness::POLLED, body.into_bytes())
}

fn status_color(status: ServiceStatus) -> NamedColor {
    match status {
        ServiceStatus::Operational => NamedColor::Brightgreen,
        ServiceStatus::Degraded => NamedColor::Yellow,
        ServiceStatus::PartialOutage => NamedColor::Orange,
        ServiceStatus::MajorOutage => NamedColor::Red,
        ServiceStatus::Maintenance => NamedColor::Blue,
    }
}

fn indicator_color(indicator: Indicator) -> NamedColor {
    match indicator {
        Indicator::None => NamedColor::Brightgreen,
        Indicator::Maintenance => NamedColor::Blue,
        Indicator::Minor => NamedColor::Yellow,
        Indicator::Major => NamedColor::Orange,
        Indicator::Critical => NamedColor::Red,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_badge_names_its_label_and_message() {
        let doc = svg("API", "major outage", NamedColor::Red);
        let text = String::from_utf8(doc.body).expect("utf-8");
        assert!(text.starts_with("<svg"), "{text}");
        assert!(text.contains("aria-label=\"API: major outage\""), "{text}");
        assert_eq!(doc.content_type, "image/svg+xml");
    }
}
