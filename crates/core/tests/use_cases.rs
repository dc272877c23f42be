//! The event and catalog use cases called directly, as the scheduler and incoming webhooks
//! call them: over real PostgreSQL, at chosen times, each result's [`Changes`] checked.

mod common;

use common::Fresh;
use statuspage_core::actor::Actor;
use statuspage_core::catalog::{self, ServiceInput};
use statuspage_core::db::{DbExt, NativeDb, transaction};
use statuspage_core::domain::{
    Automation, ChangeKind, EventStatus, EventType, Name, ServiceStatus, Severity, Slug, StatusSource, Title,
};
use statuspage_core::error::Error;
use statuspage_core::events::{
    self, AffectedInput, EffectiveChange, EventKind, EventUpdateCommand, MaintenanceWindow, NewEvent, Transition,
};
use statuspage_core::migrate::ensure_schema;
use statuspage_core::repo::services::ServiceFields;
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

fn database() -> (Fresh, NativeDb) {
    let fresh = Fresh::new();
    let db = fresh.connect();
    ensure_schema(&db, false).expect("schema");
    (fresh, db)
}

fn service(db: &NativeDb, slug: &str, at: OffsetDateTime) -> Uuid {
    let fields = ServiceFields {
        name: Some(Name::parse(slug).expect("name")),
        slug: Some(Slug::parse(slug).expect("slug")),
        ..ServiceFields::default()
    };
    let new = ServiceInput { fields, ..ServiceInput::default() };
    transaction(db, |db| catalog::create_service(db, &Actor::Scheduler, at, new)).expect("service").value.id
}

fn incident(services: Vec<(Uuid, ServiceStatus)>) -> NewEvent {
    NewEvent {
        kind: EventKind::Incident { severity: Severity::Major },
        status: EventStatus::Investigating,
        title: Some(Title::parse("API errors").expect("title")),
        description: None,
        message: None,
        notify_subscribers: true,
        started_at: None,
        resolved_at: None,
        affected: AffectedInput { services, groups: Vec::new() },
        template: None,
    }
}

/// `(from, to, source, at)` of a service's status log, oldest first.
fn status_log(db: &NativeDb, service: Uuid) -> Vec<(Option<String>, String, String, String)> {
    db.query_as(
        "select coalesce(jsonb_agg(jsonb_build_array(from_status, to_status, source, rfc3339(created_at)) order by id), '[]')
         from service_status_log where service_id = $1",
        &[service.into()],
    )
    .expect("log")
}

#[test]
fn an_incident_declared_updated_and_resolved_reports_each_change() {
    let (_fresh, db) = database();
    let (t0, t1, t2) =
        (datetime!(2026-12-01 10:00 UTC), datetime!(2026-12-01 10:20 UTC), datetime!(2026-12-01 11:00 UTC));
    let (api, web) = (service(&db, "api", t0), service(&db, "web", t0));
    let operator = Actor::user(Uuid::new_v4(), "ops@example.com");

    let declared =
        transaction(&db, |db| events::declare(db, &operator, t0, incident(vec![(api, ServiceStatus::PartialOutage)])))
            .expect("declared");
    let c = &declared.changes;
    assert_eq!(c.status, Transition { before: None, after: EventStatus::Investigating });
    assert_eq!((c.event_type, c.at, c.notify_subscribers), (EventType::Incident, t0, true));
    assert_eq!(c.added().map(|a| (a.service, a.to)).collect::<Vec<_>>(), [(api, Some(ServiceStatus::PartialOutage))]);
    assert_eq!(
        c.effective,
        [EffectiveChange { service: api, before: ServiceStatus::Operational, after: ServiceStatus::PartialOutage }]
    );
    assert_eq!(declared.event.event.created_at, t0);
    assert_eq!(declared.event.updates.len(), 1);
    let id = declared.event.event.id;

    let update = EventUpdateCommand {
        status: Some(EventStatus::Identified),
        message: "Found it; the web is slow too".into(),
        add: AffectedInput { services: vec![(web, ServiceStatus::Degraded)], groups: Vec::new() },
        ..EventUpdateCommand::default()
    };
    let updated = transaction(&db, |db| events::apply_update(db, &operator, t1, id, update)).expect("updated");
    let c = &updated.changes;
    assert_eq!(c.status, Transition { before: Some(EventStatus::Investigating), after: EventStatus::Identified });
    assert!(c.status.changed() && !c.status.closed());
    assert_eq!(c.added().map(|a| a.service).collect::<Vec<_>>(), [web]);
    assert_eq!(c.effective.iter().map(|e| (e.service, e.after)).collect::<Vec<_>>(), [(web, ServiceStatus::Degraded)]);

    let resolve = EventUpdateCommand {
        status: Some(EventStatus::Resolved),
        message: "Fixed".into(),
        remove_service_ids: vec![web],
        ..EventUpdateCommand::default()
    };
    let resolved = transaction(&db, |db| events::apply_update(db, &operator, t2, id, resolve)).expect("resolved");
    let c = &resolved.changes;
    assert!(c.status.closed());
    assert_eq!(
        c.removed().map(|r| (r.service, r.kind, r.from)).collect::<Vec<_>>(),
        [(web, ChangeKind::Removed, Some(ServiceStatus::Degraded))]
    );
    let mut moved: Vec<_> = c.effective.iter().map(|e| (e.service, e.before, e.after)).collect();
    moved.sort();
    let mut expected = vec![
        (api, ServiceStatus::PartialOutage, ServiceStatus::Operational),
        (web, ServiceStatus::Degraded, ServiceStatus::Operational),
    ];
    expected.sort();
    assert_eq!(moved, expected, "closing resets every service with no other active event");
    assert_eq!(resolved.event.event.resolved_at, Some(t2));
    assert_eq!(resolved.event.updates.len(), 3);

    let api_log = status_log(&db, api);
    let when: Vec<&str> = api_log.iter().map(|(_, _, _, at)| at.as_str()).collect();
    assert_eq!(when, ["2026-12-01T10:00:00.000Z", "2026-12-01T10:00:00.000Z", "2026-12-01T11:00:00.000Z"]);
    assert_eq!(api_log[1].2, StatusSource::Event.as_str());

    let again = transaction(&db, |db| {
        events::apply_update(db, &operator, t2, id, EventUpdateCommand { message: "more".into(), ..Default::default() })
    });
    assert!(matches!(again, Err(Error::Conflict { code: "event_closed", .. })), "{again:?}");
}

#[test]
fn maintenance_changes_nothing_until_it_starts_and_the_scheduler_can_run_it() {
    let (_fresh, db) = database();
    let t0 = datetime!(2026-12-01 09:00 UTC);
    let database = service(&db, "database", t0);
    let window =
        MaintenanceWindow::new(datetime!(2026-12-02 02:00 UTC), datetime!(2026-12-02 03:00 UTC)).expect("window");
    let planned = NewEvent {
        kind: EventKind::Maintenance { window, automation: Automation::ON },
        status: EventStatus::Scheduled,
        title: Some(Title::parse("Upgrade").expect("title")),
        description: Some("Minor version".into()),
        message: None,
        notify_subscribers: false,
        started_at: None,
        resolved_at: None,
        affected: AffectedInput { services: vec![(database, ServiceStatus::Maintenance)], groups: Vec::new() },
        template: None,
    };
    let declared =
        transaction(&db, |db| events::declare(db, &Actor::user(Uuid::new_v4(), "a@example.com"), t0, planned))
            .expect("planned");
    assert!(declared.changes.effective.is_empty(), "scheduled maintenance affects nothing yet");
    assert_eq!(declared.event.event.started_at, None);

    let start =
        EventUpdateCommand { status: Some(EventStatus::InProgress), message: "Started".into(), ..Default::default() };
    let started = transaction(&db, |db| {
        events::apply_update(db, &Actor::Scheduler, window.start(), declared.event.event.id, start)
    })
    .expect("started");
    assert_eq!(
        started.changes.effective,
        [EffectiveChange { service: database, before: ServiceStatus::Operational, after: ServiceStatus::Maintenance }]
    );
    assert_eq!(started.event.event.started_at, Some(window.start()));
    assert_eq!(started.changes.actor, Actor::Scheduler);
    assert_eq!(started.event.updates[0].created_by, None, "the scheduler is nobody's account");
}

#[test]
fn commands_that_break_the_rules_change_nothing() {
    let (_fresh, db) = database();
    let t0 = datetime!(2026-12-01 10:00 UTC);
    let actor = Actor::Scheduler;
    let mut wrong_status = incident(Vec::new());
    wrong_status.status = EventStatus::Scheduled;
    let unknown = incident(vec![(Uuid::new_v4(), ServiceStatus::Degraded)]);
    let mut untitled = incident(Vec::new());
    untitled.title = None;
    for (command, field) in [(wrong_status, "status"), (unknown, "affected_services"), (untitled, "title")] {
        match transaction(&db, |db| events::declare(db, &actor, t0, command)) {
            Err(Error::Invalid(fields)) => assert_eq!(fields[0].field, field),
            other => panic!("expected 400 on {field}, got {other:?}"),
        }
    }
    let events: i64 = db.query_as("select to_jsonb(count(*)) from events", &[]).expect("count");
    assert_eq!(events, 0);
    let missing =
        transaction(&db, |db| events::apply_update(db, &actor, t0, Uuid::new_v4(), EventUpdateCommand::default()));
    assert!(matches!(missing, Err(Error::NotFound(_))));
}

#[test]
fn the_scheduler_sets_a_stored_status_through_the_catalog_and_it_is_logged() {
    let (_fresh, db) = database();
    let t0 = datetime!(2026-12-01 10:00 UTC);
    let api = service(&db, "api", t0);
    let t1 = datetime!(2026-12-01 12:00 UTC);
    let written = transaction(&db, |db| {
        catalog::set_service_status(
            db,
            &Actor::Scheduler,
            t1,
            api,
            ServiceStatus::Maintenance,
            (StatusSource::Scheduler, "window"),
        )
    })
    .expect("set");
    assert_eq!(written.value.status, ServiceStatus::Maintenance);
    assert_eq!(written.entry.action, "service.status");
    let log = status_log(&db, api);
    assert_eq!(
        log.last().map(|(from, to, source, at)| (from.clone(), to.as_str(), source.as_str(), at.as_str())),
        Some((Some("operational".into()), "maintenance", "scheduler", "2026-12-01T12:00:00.000Z"))
    );
    let unchanged = transaction(&db, |db| {
        catalog::set_service_status(
            db,
            &Actor::Scheduler,
            t1,
            api,
            ServiceStatus::Maintenance,
            (StatusSource::Scheduler, "again"),
        )
    });
    assert!(unchanged.is_ok());
    assert_eq!(status_log(&db, api).len(), log.len(), "setting the same status logs nothing");
}

#[test]
fn the_service_json_and_the_sql_functions_agree_on_derived_status() {
    let (_fresh, db) = database();
    let t0 = datetime!(2026-12-01 09:00 UTC);
    let ids: Vec<Uuid> = ["a", "b", "c", "d"].iter().map(|slug| service(&db, slug, t0)).collect();
    let operator = Actor::user(Uuid::new_v4(), "ops@example.com");
    let declare = |event: NewEvent| transaction(&db, |db| events::declare(db, &operator, t0, event)).expect("declared");
    // a: two open incidents, the worse wins; b: one closed later; c: maintenance only scheduled.
    declare(incident(vec![(ids[0], ServiceStatus::Degraded), (ids[1], ServiceStatus::MajorOutage)]));
    declare(incident(vec![(ids[0], ServiceStatus::PartialOutage)]));
    let scheduled = NewEvent {
        kind: EventKind::Maintenance {
            window: MaintenanceWindow::new(datetime!(2026-12-02 0:00 UTC), datetime!(2026-12-02 1:00 UTC))
                .expect("window"),
            automation: Automation::ON,
        },
        status: EventStatus::Scheduled,
        ..incident(vec![(ids[2], ServiceStatus::Maintenance)])
    };
    declare(scheduled);
    let closing = declare(incident(vec![(ids[1], ServiceStatus::Degraded)]));
    let resolve =
        EventUpdateCommand { status: Some(EventStatus::Resolved), message: "ok".into(), ..Default::default() };
    transaction(&db, |db| events::apply_update(db, &operator, t0, closing.event.event.id, resolve)).expect("resolved");
    let listed: Vec<(String, String, bool)> = db
        .query_as(
            concat!(
                "select jsonb_agg(jsonb_build_array(x->>'slug', x->>'effective_status', (x->>'has_active_events')::boolean) order by x->>'slug')
                 from (select ",
                "jsonb_build_object('slug', s.slug, 'effective_status', service_effective_status(s.id, s.status),
                                    'has_active_events', service_has_active_events(s.id)) as x from services s) t"
            ),
            &[],
        )
        .expect("functions");
    let read = statuspage_core::repo::services::list_services(
        &db,
        &statuspage_core::repo::services::ServiceFilter::default(),
        statuspage_core::db::Window { limit: 10, offset: 0 },
    )
    .expect("list");
    let mut from_json: Vec<(String, String, bool)> = read
        .items
        .iter()
        .map(|s| (s.slug.clone(), s.effective_status.as_str().to_owned(), s.has_active_events))
        .collect();
    from_json.sort();
    assert_eq!(from_json, listed);
    assert_eq!(
        from_json.iter().map(|(_, status, _)| status.as_str()).collect::<Vec<_>>(),
        ["partial_outage", "major_outage", "operational", "operational"]
    );
}
