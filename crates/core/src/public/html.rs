//! The HTML pages (`/`, `/incidents/{id}`, `/history`), rendered from compile-time `askama`
//! templates (`crates/core/templates/`) over view models built here, so the templates only
//! lay out text that is already chosen, translated and formatted.
//!
//! The pages need no JavaScript and load nothing from elsewhere: styles, icons and the
//! favicon are inline. Every status is said in words beside its colour and icon; times are UTC
//! and say so.

use askama::Template;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::document::{Document, Freshness};
use super::i18n::{Lang, Text};
use super::model::{Indicator, LogPoint, PublicEvent, ServiceDay, Snapshot};
use super::site::Site;
use super::uptime::{self, Bucket, Granularity, Point};
use crate::domain::{EventType, Service, ServiceStatus};

/// What every page shows around its content.
#[derive(Debug)]
pub struct Chrome<'a> {
    /// The page's language.
    pub lang: Lang,
    /// Its texts.
    pub t: &'static Text,
    /// The site.
    pub site: &'a Site,
    /// The document title.
    pub title: String,
    /// The page's path, for the language switch.
    pub path: String,
    /// The other languages: `(code, name, href)`.
    pub switch: Vec<(&'static str, &'static str, String)>,
    /// `?lang=xx`, appended to links so a chosen language sticks.
    pub lang_query: String,
}

impl<'a> Chrome<'a> {
    fn new(site: &'a Site, lang: Lang, title: String, path: &str) -> Self {
        let switch = Lang::ALL
            .into_iter()
            .filter(|l| *l != lang)
            .map(|l| (l.code(), l.name(), format!("{path}?lang={}", l.code())))
            .collect();
        Self {
            lang,
            t: lang.text(),
            site,
            title,
            path: path.to_owned(),
            switch,
            lang_query: format!("?lang={}", lang.code()),
        }
    }

    /// A link to `path` in this page's language.
    #[must_use]
    pub fn link(&self, path: &str) -> String {
        format!("{path}{}", self.lang_query)
    }
}

/// A status as shown: a CSS class, an icon and words.
#[derive(Debug, Clone)]
pub struct StatusView {
    /// `ok`, `degraded`, `partial`, `major`, `maintenance`.
    pub class: &'static str,
    /// The words.
    pub text: &'static str,
}

fn status_view(status: ServiceStatus, lang: Lang) -> StatusView {
    StatusView { class: status_class(status), text: lang.service_status(status) }
}

fn status_class(status: ServiceStatus) -> &'static str {
    match status {
        ServiceStatus::Operational => "ok",
        ServiceStatus::Degraded => "degraded",
        ServiceStatus::PartialOutage => "partial",
        ServiceStatus::MajorOutage => "major",
        ServiceStatus::Maintenance => "maintenance",
    }
}

fn indicator_class(indicator: Indicator) -> &'static str {
    match indicator {
        Indicator::None => "ok",
        Indicator::Maintenance => "maintenance",
        Indicator::Minor => "degraded",
        Indicator::Major => "partial",
        Indicator::Critical => "major",
    }
}

/// `2026-12-03 14:05 UTC`.
#[must_use]
pub fn when(at: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", at.year(), u8::from(at.month()), at.day(), at.hour(), at.minute())
}

/// One timeline entry.
#[derive(Debug)]
pub struct UpdateView {
    /// The event's status with it.
    pub status: &'static str,
    /// When, formatted.
    pub at: String,
    /// When, RFC 3339 (for `<time datetime>`).
    pub at_iso: String,
    /// What was said.
    pub message: String,
}

/// An event as the pages show it.
#[derive(Debug)]
pub struct EventView {
    /// Id.
    pub id: Uuid,
    /// Link to its page.
    pub href: String,
    /// Title.
    pub title: String,
    /// Incident or maintenance, in words.
    pub kind: &'static str,
    /// Its status, in words.
    pub status: &'static str,
    /// A CSS class for the status.
    pub class: &'static str,
    /// Its severity, for incidents.
    pub severity: Option<&'static str>,
    /// Description.
    pub description: String,
    /// Affected services: name and status in words.
    pub affected: Vec<(String, StatusView)>,
    /// The maintenance window, formatted.
    pub window: Option<String>,
    /// Started, formatted.
    pub started: Option<String>,
    /// Closed, formatted.
    pub resolved: Option<String>,
    /// Timeline, newest first.
    pub updates: Vec<UpdateView>,
}

impl EventView {
    fn of(public: &PublicEvent, chrome: &Chrome<'_>) -> Self {
        let (e, lang) = (&public.event, chrome.lang);
        let class = match (e.event_type, e.is_active(), e.status.is_terminal()) {
            (_, _, true) => "ok",
            (EventType::Maintenance, _, false) => "maintenance",
            (EventType::Incident, _, false) => match e.severity {
                Some(crate::domain::Severity::Critical) => "major",
                Some(crate::domain::Severity::Major) => "partial",
                _ => "degraded",
            },
        };
        let window = match (e.scheduled_start_at, e.scheduled_end_at) {
            (Some(start), Some(end)) => Some(format!("{} – {}", when(start), when(end))),
            _ => None,
        };
        Self {
            id: e.id,
            href: chrome.link(&format!("/incidents/{}", e.id)),
            title: e.title.clone(),
            kind: lang.event_type(e.event_type),
            status: lang.event_status(e.status),
            class,
            severity: e.severity.map(|s| lang.severity(s)),
            description: e.description.clone(),
            affected: e.affected_services.iter().map(|a| (a.name.clone(), status_view(a.status, lang))).collect(),
            window,
            started: e.started_at.map(when),
            resolved: e.resolved_at.map(when),
            updates: public
                .updates
                .iter()
                .map(|u| UpdateView {
                    status: lang.event_status(u.update.status),
                    at: when(u.update.created_at),
                    at_iso: crate::time::format_rfc3339(u.update.created_at),
                    message: u.update.message.clone(),
                })
                .collect(),
        }
    }
}

/// A stretch of the 90-day bar: consecutive days that look and read the same.
#[derive(Debug)]
pub struct BarRange {
    /// Left edge, in bar units (4 per day).
    pub x: u32,
    /// Width, in bar units.
    pub width: u32,
    /// `ok`, `degraded`, `partial`, `major`, `maintenance` or `none` (not observed).
    pub class: &'static str,
    /// The tooltip.
    pub title: String,
}

/// A service's row: status and 90-day bar.
#[derive(Debug)]
pub struct ServiceRow {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Its effective status.
    pub status: StatusView,
    /// Uptime over the 90 days, formatted (`99.95%`), `None` without data.
    pub uptime: Option<String>,
    /// The bar.
    pub bars: Vec<BarRange>,
    /// What the bar shows, in words (its accessible name).
    pub bars_label: String,
    /// The days that were not clean: the bar's text alternative.
    pub trouble: Vec<String>,
}

/// A group of services (or the services in no group).
#[derive(Debug)]
pub struct Section {
    /// The group's name (none for ungrouped services when there are no groups).
    pub title: Option<String>,
    /// The group's status.
    pub status: Option<StatusView>,
    /// Its services.
    pub services: Vec<ServiceRow>,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    chrome: Chrome<'a>,
    banner: StatusView,
    active: Vec<EventView>,
    in_progress: Vec<EventView>,
    upcoming: Vec<EventView>,
    sections: Vec<Section>,
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage<'a> {
    chrome: Chrome<'a>,
    event: EventView,
}

#[derive(Template)]
#[template(path = "history_item.html")]
struct HistoryItem<'a> {
    chrome: Chrome<'a>,
    event: EventView,
}

/// A month on the history page and its events' stored fragments.
#[derive(Debug)]
pub struct Month {
    /// `December 2026`.
    pub heading: String,
    /// The events' HTML, newest first.
    pub items: Vec<String>,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage<'a> {
    chrome: Chrome<'a>,
    months: Vec<Month>,
    newer: Option<String>,
    older: Option<String>,
}

fn html(body: String) -> Document {
    Document::new("text/html; charset=utf-8", Freshness::LIVE, body.into_bytes())
}

/// Askama writes into a `String`; only a failing `Display` of our own values could make it
/// fail, and none does: an empty page would be the symptom.
fn render(template: &impl Template) -> String {
    template.render().unwrap_or_default()
}

/// The status page `/` in `lang`, as of `now` (the bars end today).
#[must_use]
pub fn index(snapshot: &Snapshot, site: &Site, lang: Lang, now: OffsetDateTime) -> Document {
    let chrome = Chrome::new(site, lang, site.title.clone(), "/");
    let indicator = snapshot.indicator();
    let banner = StatusView { class: indicator_class(indicator), text: lang.indicator(indicator) };
    let active = snapshot.active().filter(|e| e.event.event_type == EventType::Incident);
    let in_progress = snapshot.active().filter(|e| e.event.event_type == EventType::Maintenance);
    let page = IndexPage {
        active: active.map(|e| EventView::of(e, &chrome)).collect(),
        in_progress: in_progress.map(|e| EventView::of(e, &chrome)).collect(),
        upcoming: snapshot.upcoming().into_iter().map(|e| EventView::of(e, &chrome)).collect(),
        sections: sections(snapshot, lang, now),
        banner,
        chrome,
    };
    html(render(&page))
}

/// An event's own page in `lang`.
#[must_use]
pub fn incident(event: &PublicEvent, site: &Site, lang: Lang) -> Document {
    let path = format!("/incidents/{}", event.event.id);
    let chrome = Chrome::new(site, lang, format!("{} · {}", event.event.title, site.title), &path);
    let page = IncidentPage { event: EventView::of(event, &chrome), chrome };
    html(render(&page))
}

/// An event's entry on the history page in `lang` (an HTML fragment).
#[must_use]
pub fn history_item(event: &PublicEvent, site: &Site, lang: Lang) -> Vec<u8> {
    let chrome = Chrome::new(site, lang, String::new(), "/history");
    render(&HistoryItem { event: EventView::of(event, &chrome), chrome }).into_bytes()
}

/// A history page in `lang` from stored entries grouped by month, with the links to the newer
/// and older pages.
#[must_use]
pub fn history(site: &Site, lang: Lang, months: Vec<Month>, newer: Option<String>, older: Option<String>) -> Vec<u8> {
    let t = lang.text();
    let chrome = Chrome::new(site, lang, format!("{} · {}", t.history_title, site.title), "/history");
    render(&HistoryPage { months, newer, older, chrome }).into_bytes()
}

/// A choice of the subscriber forms.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The submitted value.
    pub value: String,
    /// What it says.
    pub label: String,
    /// Whether it is chosen.
    pub checked: bool,
}

/// What a subscription covers, as a form.
#[derive(Debug, Clone)]
pub struct Choices {
    /// The fieldset's legend.
    pub legend: String,
    /// Whether every service is chosen.
    pub all: bool,
    /// "Every service".
    pub all_label: String,
    /// Groups.
    pub groups: Vec<Choice>,
    /// Services.
    pub services: Vec<Choice>,
    /// The digest fieldset's legend.
    pub digest_legend: String,
    /// Immediate, daily, weekly.
    pub digests: Vec<Choice>,
    /// English, Russian.
    pub languages: Vec<Choice>,
}

/// A subscriber page's form.
#[derive(Debug, Clone)]
pub struct FormView {
    /// Where it posts.
    pub action: String,
    /// Hidden fields.
    pub hidden: Vec<(String, String)>,
    /// Whether it asks for an e-mail address.
    pub email: bool,
    /// The subscription's choices.
    pub choices: Option<Choices>,
    /// The button.
    pub submit: String,
    /// The button's `action` value.
    pub submit_value: String,
    /// A second button: `(action value, label)`.
    pub secondary: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "subscriber.html")]
struct SubscriberPage<'a> {
    chrome: Chrome<'a>,
    heading: String,
    paragraphs: Vec<String>,
    form: Option<FormView>,
}

/// A page of the public subscriber flows (confirm, manage, unsubscribe) at `path`.
#[must_use]
pub fn subscriber_page(
    site: &Site,
    lang: Lang,
    path: &str,
    heading: &str,
    paragraphs: Vec<String>,
    form: Option<FormView>,
) -> Vec<u8> {
    let chrome = Chrome::new(site, lang, format!("{heading} · {}", site.title), path);
    render(&SubscriberPage { chrome, heading: heading.to_owned(), paragraphs, form }).into_bytes()
}

/// `December 2026` in `lang`.
#[must_use]
pub fn month_heading(lang: Lang, date: Date) -> String {
    format!("{} {}", lang.month(date.month()), date.year())
}

/// The groups in order, each with its services, then the services in no group.
fn sections(snapshot: &Snapshot, lang: Lang, now: OffsetDateTime) -> Vec<Section> {
    let row = |service: &Service| service_row(service, (&snapshot.log, &snapshot.rollups), lang, now);
    let mut out: Vec<Section> = snapshot
        .groups
        .iter()
        .map(|group| {
            let members: Vec<&Service> = group.service_ids.iter().filter_map(|id| snapshot.service(*id)).collect();
            let worst = members.iter().map(|s| s.effective_status).max().unwrap_or(ServiceStatus::Operational);
            Section {
                title: Some(group.name.clone()),
                status: Some(status_view(worst, lang)),
                services: members.into_iter().map(row).collect(),
            }
        })
        .collect();
    let ungrouped: Vec<ServiceRow> = snapshot.services.iter().filter(|s| s.group_ids.is_empty()).map(row).collect();
    if !ungrouped.is_empty() {
        let title = (!out.is_empty()).then(|| lang.text().other_services.to_owned());
        out.push(Section { title, status: None, services: ungrouped });
    }
    out
}

fn service_row(
    service: &Service,
    (log, rollups): (&[LogPoint], &[ServiceDay]),
    lang: Lang,
    now: OffsetDateTime,
) -> ServiceRow {
    let points: Vec<Point> = log.iter().filter(|p| p.service_id == service.id).map(|p| Point(p.at, p.status)).collect();
    let rolled: Vec<uptime::DayRollup> =
        rollups.iter().filter(|r| r.service_id == service.id).map(|r| r.rollup).collect();
    let range = uptime::last_90_days(now);
    let days =
        uptime::buckets_with_rollups(&points, &rolled, (service.lifecycle.created_at, now), range, Granularity::Day);
    let total = uptime::combined(&days);
    let t = lang.text();
    let uptime_text = total.uptime().map(|u| percent(lang, u));
    let (bars, trouble) = bars(&days, lang);
    let bars_label = match &uptime_text {
        Some(u) => format!("{}: {u} {}", t.uptime_90_days, t.uptime),
        None => format!("{}: {}", t.uptime_90_days, t.no_data),
    };
    ServiceRow {
        name: service.name.clone(),
        description: service.description.clone(),
        status: status_view(service.effective_status, lang),
        uptime: uptime_text,
        bars,
        bars_label,
        trouble,
    }
}

fn percent(lang: Lang, share: f64) -> String {
    let text = uptime::percent(share);
    match lang {
        Lang::En => format!("{text}%"),
        Lang::Ru => format!("{}\u{a0}%", text.replace('.', ",")),
    }
}

/// The day bars, consecutive days reading the same merged into one range, and the days that
/// were not clean in words.
fn bars(days: &[Bucket], lang: Lang) -> (Vec<BarRange>, Vec<String>) {
    let t = lang.text();
    let mut ranges: Vec<(usize, usize, &'static str, String)> = Vec::new();
    let mut trouble = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let date = day.start.date().to_string();
        let (class, summary) = match (day.worst(), day.uptime()) {
            (None, _) | (_, None) => ("none", t.no_data.to_owned()),
            (Some(worst), Some(share)) => {
                let mut words = format!("{} {}", percent(lang, share), t.uptime);
                for status in [
                    ServiceStatus::MajorOutage,
                    ServiceStatus::PartialOutage,
                    ServiceStatus::Degraded,
                    ServiceStatus::Maintenance,
                ] {
                    let seconds = day.seconds.of(status);
                    if seconds > 0 {
                        words.push_str(&format!(" · {} {}", lang.service_status(status), lang.duration(seconds)));
                    }
                }
                if worst != ServiceStatus::Operational {
                    trouble.push(format!("{date}: {words}"));
                }
                (status_class(worst), words)
            }
        };
        match ranges.last_mut() {
            Some(last)
                if last.2 == class
                    && last.3 == summary
                    && class != "degraded"
                    && class != "partial"
                    && class != "major" =>
            {
                last.1 = i;
            }
            _ => ranges.push((i, i, class, summary)),
        }
    }
    let bars = ranges
        .into_iter()
        .map(|(first, last, class, summary)| {
            let from = days[first].start.date();
            let to = days[last].start.date();
            let title =
                if first == last { format!("{from}: {summary}") } else { format!("{from} – {to}: {summary}") };
            let (x, width) =
                (u32::try_from(first * 4).unwrap_or(0), u32::try_from((last - first + 1) * 4 - 1).unwrap_or(0));
            BarRange { x, width, class, title }
        })
        .collect();
    (bars, trouble)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn site() -> Site {
        Site::of(&crate::config::Config::with(&[("page_title", "Acme <Status>")]).expect("valid"))
    }

    #[test]
    fn an_empty_page_renders_in_both_languages_and_escapes_text() {
        let snapshot = Snapshot::default();
        let en = String::from_utf8(index(&snapshot, &site(), Lang::En, datetime!(2026-12-03 10:00 UTC)).body)
            .expect("utf-8");
        assert!(en.contains("<html lang=\"en\">"), "{en}");
        assert!(en.contains("All Systems Operational"));
        assert!(en.contains("Acme &#60;Status&#62;") || en.contains("Acme &lt;Status&gt;"), "titles are escaped");
        let ru = String::from_utf8(index(&snapshot, &site(), Lang::Ru, datetime!(2026-12-03 10:00 UTC)).body)
            .expect("utf-8");
        assert!(ru.contains("<html lang=\"ru\">") && ru.contains("Все системы работают"));
    }

    #[test]
    fn clean_days_merge_and_trouble_days_stand_alone() {
        let points = [
            Point(datetime!(2026-11-01 0:00 UTC), ServiceStatus::Operational),
            Point(datetime!(2026-11-02 10:00 UTC), ServiceStatus::MajorOutage),
            Point(datetime!(2026-11-02 11:00 UTC), ServiceStatus::Operational),
        ];
        let days = uptime::buckets(
            &points,
            (datetime!(2026-11-01 0:00 UTC), datetime!(2026-11-04 0:00 UTC)),
            (datetime!(2026-10-31 0:00 UTC), datetime!(2026-11-04 0:00 UTC)),
            Granularity::Day,
        );
        let (ranges, trouble) = bars(&days, Lang::En);
        let classes: Vec<_> = ranges.iter().map(|r| r.class).collect();
        assert_eq!(classes, ["none", "ok", "major", "ok"]);
        assert_eq!(trouble, ["2026-11-02: 95.833% uptime · Major outage 1 h"]);
        assert_eq!((ranges[2].x, ranges[2].width), (8, 3));
        assert_eq!(ranges[3].title, "2026-11-03: 100% uptime");
    }
}
