//! The page's languages (English and Russian): which one a request gets (`?lang=`, then
//! `Accept-Language`), and every text the public documents show, in both.

use crate::domain::{EventStatus, EventType, ServiceStatus, Severity};
use crate::public::model::Indicator;

/// A language of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English (the default).
    En,
    /// Russian.
    Ru,
}

impl Lang {
    /// Every language, the default first.
    pub const ALL: [Self; 2] = [Self::En, Self::Ru];

    /// The BCP 47 code.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ru => "ru",
        }
    }

    /// Its name in itself, for the language switch.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Ru => "Русский",
        }
    }

    /// The language a tag names (`ru`, `ru-RU`, `EN_gb`), if one of ours.
    #[must_use]
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        Self::ALL.into_iter().find(|l| primary.eq_ignore_ascii_case(l.code()))
    }

    /// The language of a request: `?lang=` when it names one, else the best of
    /// `Accept-Language` (by q-value, then order), else English.
    #[must_use]
    pub fn negotiate(query: Option<&str>, accept_language: Option<&str>) -> Self {
        if let Some(lang) = query.and_then(Self::from_tag) {
            return lang;
        }
        let mut best: Option<(u16, Self)> = None;
        for range in accept_language.unwrap_or_default().split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(1000, |q| q.trim().parse::<f32>().map_or(0, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16));
            if let Some(lang) = Self::from_tag(tag)
                && quality > 0
                && best.is_none_or(|(q, _)| quality > q)
            {
                best = Some((quality, lang));
            }
        }
        best.map_or(Self::En, |(_, lang)| lang)
    }

    /// The texts.
    #[must_use]
    pub fn text(self) -> &'static Text {
        match self {
            Self::En => &EN,
            Self::Ru => &RU,
        }
    }

    /// A service status.
    #[must_use]
    pub fn service_status(self, status: ServiceStatus) -> &'static str {
        let t = self.text();
        match status {
            ServiceStatus::Operational => t.operational,
            ServiceStatus::Degraded => t.degraded,
            ServiceStatus::PartialOutage => t.partial_outage,
            ServiceStatus::MajorOutage => t.major_outage,
            ServiceStatus::Maintenance => t.maintenance,
        }
    }

    /// An event status.
    #[must_use]
    pub fn event_status(self, status: EventStatus) -> &'static str {
        let ru = self == Self::Ru;
        match status {
            EventStatus::Investigating => {
                if ru {
                    "Расследуем"
                } else {
                    "Investigating"
                }
            }
            EventStatus::Identified => {
                if ru {
                    "Причина найдена"
                } else {
                    "Identified"
                }
            }
            EventStatus::Monitoring => {
                if ru {
                    "Наблюдаем"
                } else {
                    "Monitoring"
                }
            }
            EventStatus::Resolved => {
                if ru {
                    "Решено"
                } else {
                    "Resolved"
                }
            }
            EventStatus::Scheduled => {
                if ru {
                    "Запланировано"
                } else {
                    "Scheduled"
                }
            }
            EventStatus::InProgress => {
                if ru {
                    "Идут работы"
                } else {
                    "In progress"
                }
            }
            EventStatus::Completed => {
                if ru {
                    "Завершено"
                } else {
                    "Completed"
                }
            }
        }
    }

    /// An incident's severity.
    #[must_use]
    pub fn severity(self, severity: Severity) -> &'static str {
        let ru = self == Self::Ru;
        match severity {
            Severity::Minor => {
                if ru {
                    "Незначительный"
                } else {
                    "Minor"
                }
            }
            Severity::Major => {
                if ru {
                    "Значительный"
                } else {
                    "Major"
                }
            }
            Severity::Critical => {
                if ru {
                    "Критический"
                } else {
                    "Critical"
                }
            }
        }
    }

    /// The kind of event.
    #[must_use]
    pub fn event_type(self, event_type: EventType) -> &'static str {
        match (self, event_type) {
            (Self::En, EventType::Incident) => "Incident",
            (Self::En, EventType::Maintenance) => "Maintenance",
            (Self::Ru, EventType::Incident) => "Инцидент",
            (Self::Ru, EventType::Maintenance) => "Работы",
        }
    }

    /// The overall status.
    #[must_use]
    pub fn indicator(self, indicator: Indicator) -> &'static str {
        match self {
            Self::En => indicator.description(),
            Self::Ru => match indicator {
                Indicator::None => "Все системы работают",
                Indicator::Maintenance => "Идёт техническое обслуживание",
                Indicator::Minor => "Частично снижена производительность",
                Indicator::Major => "Частичный сбой систем",
                Indicator::Critical => "Серьёзный сбой систем",
            },
        }
    }

    /// A month's name standing alone (a heading).
    #[must_use]
    pub fn month(self, month: time::Month) -> &'static str {
        let i = usize::from(u8::from(month)) - 1;
        match self {
            Self::En => EN_MONTHS[i],
            Self::Ru => RU_MONTHS[i],
        }
    }

    /// A duration in words: `2 h 5 min`, `2 ч 5 мин` (abbreviations need no plural forms).
    #[must_use]
    pub fn duration(self, seconds: i64) -> String {
        let (d, h, m) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60);
        let units = match self {
            Self::En => ["d", "h", "min"],
            Self::Ru => ["д", "ч", "мин"],
        };
        let mut parts = Vec::new();
        for (value, unit) in [d, h, m].into_iter().zip(units) {
            if value > 0 {
                parts.push(format!("{value} {unit}"));
            }
        }
        if parts.is_empty() {
            match self {
                Self::En => "under a minute".to_owned(),
                Self::Ru => "меньше минуты".to_owned(),
            }
        } else {
            parts.join(" ")
        }
    }
}

const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const RU_MONTHS: [&str; 12] = [
    "Январь",
    "Февраль",
    "Март",
    "Апрель",
    "Май",
    "Июнь",
    "Июль",
    "Август",
    "Сентябрь",
    "Октябрь",
    "Ноябрь",
    "Декабрь",
];

/// Every fixed text of the public pages, in one language: the service statuses, then headings
/// and labels, named for what they say.
#[derive(Debug)]
pub struct Text {
    pub operational: &'static str,
    pub degraded: &'static str,
    pub partial_outage: &'static str,
    pub major_outage: &'static str,
    pub maintenance: &'static str,
    pub active_incidents: &'static str,
    pub maintenance_in_progress: &'static str,
    pub upcoming_maintenance: &'static str,
    pub services: &'static str,
    pub other_services: &'static str,
    pub uptime_90_days: &'static str,
    pub days_ago_90: &'static str,
    pub today: &'static str,
    pub no_data: &'static str,
    pub uptime: &'static str,
    pub days_with_trouble: &'static str,
    pub no_trouble: &'static str,
    pub affected: &'static str,
    pub window: &'static str,
    pub started: &'static str,
    pub resolved: &'static str,
    pub updates: &'static str,
    pub history: &'static str,
    pub history_title: &'static str,
    pub no_history: &'static str,
    pub newer: &'static str,
    pub older: &'static str,
    pub back_to_status: &'static str,
    pub subscribe: &'static str,
    pub subscribe_hint: &'static str,
    pub email: &'static str,
    pub subscribe_button: &'static str,
    pub feeds: &'static str,
    pub calendar: &'static str,
    pub api: &'static str,
    pub language: &'static str,
    pub times_in_utc: &'static str,
    pub skip_to_content: &'static str,
    pub severity: &'static str,
    pub cancelled: &'static str,
    pub not_found: &'static str,
}

static EN: Text = Text {
    operational: "Operational",
    degraded: "Degraded performance",
    partial_outage: "Partial outage",
    major_outage: "Major outage",
    maintenance: "Under maintenance",
    active_incidents: "Active incidents",
    maintenance_in_progress: "Maintenance in progress",
    upcoming_maintenance: "Upcoming maintenance",
    services: "Services",
    other_services: "Other services",
    uptime_90_days: "Uptime over the last 90 days",
    days_ago_90: "90 days ago",
    today: "Today",
    no_data: "no data",
    uptime: "uptime",
    days_with_trouble: "Days with trouble",
    no_trouble: "No trouble in the last 90 days.",
    affected: "Affected",
    window: "Window",
    started: "Started",
    resolved: "Resolved",
    updates: "Updates",
    history: "History",
    history_title: "Incident history",
    no_history: "Nothing has been reported yet.",
    newer: "Newer",
    older: "Older",
    back_to_status: "Current status",
    subscribe: "Get updates",
    subscribe_hint: "We e-mail you when an incident starts, changes and ends. Confirm with the link we send.",
    email: "E-mail address",
    subscribe_button: "Subscribe",
    feeds: "Feeds",
    calendar: "Maintenance calendar",
    api: "API",
    language: "Language",
    times_in_utc: "All times are UTC.",
    skip_to_content: "Skip to content",
    severity: "Severity",
    cancelled: "Cancelled",
    not_found: "No such incident.",
};

static RU: Text = Text {
    operational: "Работает",
    degraded: "Снижена производительность",
    partial_outage: "Частичный сбой",
    major_outage: "Серьёзный сбой",
    maintenance: "Техническое обслуживание",
    active_incidents: "Текущие инциденты",
    maintenance_in_progress: "Идут технические работы",
    upcoming_maintenance: "Запланированные работы",
    services: "Сервисы",
    other_services: "Другие сервисы",
    uptime_90_days: "Доступность за последние 90 дней",
    days_ago_90: "90 дней назад",
    today: "Сегодня",
    no_data: "нет данных",
    uptime: "доступность",
    days_with_trouble: "Дни с проблемами",
    no_trouble: "За последние 90 дней проблем не было.",
    affected: "Затронуто",
    window: "Окно работ",
    started: "Начало",
    resolved: "Решено",
    updates: "Обновления",
    history: "История",
    history_title: "История инцидентов",
    no_history: "Пока ничего не сообщалось.",
    newer: "Новее",
    older: "Старее",
    back_to_status: "Текущее состояние",
    subscribe: "Подписка на обновления",
    subscribe_hint: "Мы напишем, когда инцидент начнётся, изменится и закончится. Подтвердите подписку по ссылке из письма.",
    email: "Адрес электронной почты",
    subscribe_button: "Подписаться",
    feeds: "Ленты",
    calendar: "Календарь работ",
    api: "API",
    language: "Язык",
    times_in_utc: "Время указано в UTC.",
    skip_to_content: "К содержимому",
    severity: "Серьёзность",
    cancelled: "Отменено",
    not_found: "Такого инцидента нет.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_wins_then_the_best_accepted_language() {
        assert_eq!(Lang::negotiate(None, None), Lang::En);
        assert_eq!(Lang::negotiate(Some("ru"), Some("en")), Lang::Ru);
        assert_eq!(Lang::negotiate(Some("de"), Some("ru-RU,ru;q=0.9")), Lang::Ru, "an unknown ?lang= is ignored");
        assert_eq!(Lang::negotiate(None, Some("de-DE, ru;q=0.5, en;q=0.8")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("ru;q=0.9, EN-gb;q=0.2")), Lang::Ru);
        assert_eq!(Lang::negotiate(None, Some("fr, de")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("ru;q=0")), Lang::En, "q=0 means not acceptable");
    }

    #[test]
    fn durations_read_in_both_languages() {
        assert_eq!(Lang::En.duration(3 * 3600 + 5 * 60), "3 h 5 min");
        assert_eq!(Lang::Ru.duration(86_400 + 60), "1 д 1 мин");
        assert_eq!(Lang::En.duration(20), "under a minute");
        assert_eq!(Lang::Ru.month(time::Month::December), "Декабрь");
    }
}
