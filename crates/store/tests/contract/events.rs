//! Events: create, read, update with attendee notices, moderation; and the helpers the
//! other event test modules share.

use barnstorm_domain::event::{EventKind, EventStatus, LocationPrecision};
use barnstorm_store::events::{EventAudience, NewEvent, NewShift};
use barnstorm_store::{DatabaseUrl, GroupKind, NewMail, Store, StoreError, both_backends};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use std::collections::BTreeMap;

pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 24 * HOUR;

/// Runs `body(store, url)` on both backends, for tests that need a second connection.
#[macro_export]
macro_rules! with_url {
    ($($name:ident => $body:ident),+ $(,)?) => {$(
        mod $name {
            use barnstorm_store::testing::TestDatabase;

            #[tokio::test]
            async fn sqlite() {
                let db = TestDatabase::sqlite().await;
                super::$body(db.store.clone(), db.url.clone()).await;
                db.drop_database().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(db) = TestDatabase::postgres().await else { return };
                super::$body(db.store.clone(), db.url.clone()).await;
                db.drop_database().await;
            }
        }
    )+};
}

pub async fn group(store: &Store, name: &str) -> i64 {
    store
        .create_group(None, name, GroupKind::Branch, "", None)
        .await
        .unwrap()
        .id
}

pub fn event(group_id: i64, kind: EventKind, starts_at: i64, at: Option<(f64, f64)>) -> NewEvent {
    NewEvent {
        description: "Bring *leaflets*.".into(),
        capacity: Some(20),
        postcode: Some("LS1 4AP".into()),
        address: "1 Park Row, Leeds".into(),
        location: at,
        precision: if at.is_some() {
            LocationPrecision::Exact
        } else {
            LocationPrecision::None
        },
        accessibility: "Step-free".into(),
        ..NewEvent::new(
            group_id,
            kind,
            &format!("{} at {starts_at}", kind.label()),
            starts_at,
            starts_at + 2 * HOUR,
        )
    }
}

/// A raw connection for rows this module does not write (supporters, RSVPs).
pub async fn raw(url: &DatabaseUrl) -> AnyPool {
    let conn = match url {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    AnyPoolOptions::new()
        .max_connections(1)
        .connect(&conn)
        .await
        .unwrap()
}

pub async fn rsvp(
    pool: &AnyPool,
    event_id: i64,
    shift_id: Option<i64>,
    email: &str,
    status: &str,
) -> i64 {
    let supporter: i64 = match sqlx::query_scalar("SELECT id FROM supporters WHERE email = $1")
        .bind(email)
        .fetch_optional(pool)
        .await
        .unwrap()
    {
        Some(id) => id,
        None => sqlx::query_scalar(
            "INSERT INTO supporters (email, name, unsubscribe_token, created_at, updated_at)
             VALUES ($1, $2, $3, 0, 0) RETURNING id",
        )
        .bind(email)
        .bind(format!("Name of {email}"))
        .bind(format!("u-{email}"))
        .fetch_one(pool)
        .await
        .unwrap(),
    };
    sqlx::query_scalar(
        "INSERT INTO rsvps (event_id, shift_id, supporter_id, status, manage_token_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 0, 0) RETURNING id",
    )
    .bind(event_id)
    .bind(shift_id)
    .bind(supporter)
    .bind(status)
    .bind(format!("hash-{event_id}-{email}"))
    .fetch_one(pool)
    .await
    .unwrap()
}

pub fn notice(subject: &'static str) -> impl Fn(&EventAudience) -> Option<NewMail> + Sync {
    move |who: &EventAudience| {
        Some(NewMail {
            to: who.email.clone(),
            subject: subject.to_owned(),
            body_text: format!("Hello {} ({})", who.name, who.status),
            headers: BTreeMap::new(),
            ..Default::default()
        })
    }
}

pub fn no_notice(_: &EventAudience) -> Option<NewMail> {
    None
}

async fn queued_to(store: &Store) -> Vec<(String, String)> {
    let mut mails: Vec<_> = store
        .claim_due_mail(100, 60_000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.mail.to, m.mail.subject))
        .collect();
    mails.sort();
    mails
}

async fn create_read_update_with_notices(store: Store, url: DatabaseUrl) {
    let g = group(&store, "Leeds").await;
    let start = barnstorm_store::now_millis() + 3 * DAY;
    let mut new = event(g, EventKind::Canvass, start, Some((53.7997, -1.5492)));
    new.shifts = vec![
        NewShift {
            id: None,
            starts_at: start,
            ends_at: start + HOUR,
            capacity: Some(5),
        },
        NewShift {
            id: None,
            starts_at: start + HOUR,
            ends_at: start + 2 * HOUR,
            capacity: None,
        },
    ];
    let created = store.create_event(&new, EventStatus::Live).await.unwrap();
    assert_eq!(created.title, new.title);
    assert_eq!(created.location, Some((53.7997, -1.5492)));
    assert_eq!(created.status, EventStatus::Live);
    assert_eq!(created.shifts.len(), 2);
    assert_eq!(created.shifts[0].capacity, Some(5));
    assert_eq!(
        store.event(created.id).await.unwrap(),
        Some(created.clone())
    );
    let audit = store.recent_audit(5).await.unwrap();
    assert_eq!(audit[0].action.as_str(), "event.create");
    assert_eq!(audit[0].subject, format!("event {}", created.id));

    let pool = raw(&url).await;
    let first_shift = created.shifts[0].id;
    let going = rsvp(
        &pool,
        created.id,
        Some(first_shift),
        "going@example.org",
        "going",
    )
    .await;
    rsvp(&pool, created.id, None, "wait@example.org", "waitlist").await;
    rsvp(&pool, created.id, None, "gone@example.org", "cancelled").await;

    let mut changed = new.clone();
    changed.title = "Canvass moved".into();
    changed.starts_at += HOUR;
    changed.ends_at += HOUR;
    changed.location = None;
    changed.shifts = vec![
        NewShift {
            id: Some(created.shifts[1].id),
            starts_at: start + 2 * HOUR,
            ends_at: start + 3 * HOUR,
            capacity: Some(9),
        },
        NewShift {
            id: None,
            starts_at: start + 3 * HOUR,
            ends_at: start + 4 * HOUR,
            capacity: None,
        },
    ];
    let updated = store
        .update_event(created.id, &changed, &notice("Changed"))
        .await
        .unwrap();
    assert_eq!(updated.title, "Canvass moved");
    assert_eq!(updated.location, None);
    assert!(updated.updated_at >= created.updated_at);
    assert_eq!(updated.shifts.len(), 2);
    assert_eq!(updated.shifts[0].id, created.shifts[1].id, "kept by id");
    assert_eq!(updated.shifts[0].capacity, Some(9));
    assert_ne!(updated.shifts[1].id, first_shift);
    let shift: Option<i64> = sqlx::query_scalar("SELECT shift_id FROM rsvps WHERE id = $1")
        .bind(going)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(shift, None, "the RSVP of a removed shift stays, shiftless");
    assert_eq!(
        queued_to(&store).await,
        vec![
            ("going@example.org".into(), "Changed".into()),
            ("wait@example.org".into(), "Changed".into()),
        ],
        "going and waiting attendees are told, cancelled ones are not"
    );

    let mut backwards = changed.clone();
    backwards.ends_at = backwards.starts_at;
    let err = store.create_event(&backwards, EventStatus::Live).await;
    assert!(matches!(err, Err(StoreError::Invalid(_))), "{err:?}");
    let err = store.update_event(created.id, &backwards, &no_notice).await;
    assert!(matches!(err, Err(StoreError::Invalid(_))), "{err:?}");
    let mut foreign = changed.clone();
    foreign.shifts[0].id = Some(999_999);
    let err = store.update_event(created.id, &foreign, &no_notice).await;
    assert!(matches!(err, Err(StoreError::Invalid(_))), "{err:?}");
    let err = store.update_event(999_999, &changed, &no_notice).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
    pool.close().await;
}

async fn cancelling_notifies_attendees_once(store: Store, url: DatabaseUrl) {
    let g = group(&store, "Leeds").await;
    let start = barnstorm_store::now_millis() + DAY;
    let created = store
        .create_event(&event(g, EventKind::Social, start, None), EventStatus::Live)
        .await
        .unwrap();
    let pool = raw(&url).await;
    rsvp(&pool, created.id, None, "a@example.org", "going").await;
    rsvp(&pool, created.id, None, "b@example.org", "waitlist").await;
    let cancelled = store
        .set_event_status(
            created.id,
            EventStatus::Cancelled,
            "Rain",
            Some(7),
            &notice("Off"),
        )
        .await
        .unwrap();
    assert_eq!(cancelled.status, EventStatus::Cancelled);
    assert_eq!(cancelled.status_note, "Rain");
    assert_eq!(queued_to(&store).await.len(), 2);
    let audit = &store.recent_audit(1).await.unwrap()[0];
    assert_eq!(
        (audit.action.as_str(), audit.actor_user_id),
        ("event.cancel", Some(7))
    );
    store
        .set_event_status(
            created.id,
            EventStatus::Cancelled,
            "Rain",
            None,
            &notice("Off"),
        )
        .await
        .unwrap();
    assert!(queued_to(&store).await.is_empty(), "told only once");
    pool.close().await;
}

async fn pending_events_wait_for_approval(store: Store) {
    let leeds = group(&store, "Leeds").await;
    let york = group(&store, "York").await;
    let start = barnstorm_store::now_millis() + DAY;
    let a = store
        .create_event(
            &event(leeds, EventKind::Canvass, start, None),
            EventStatus::Pending,
        )
        .await
        .unwrap();
    let b = store
        .create_event(
            &event(leeds, EventKind::Training, start, None),
            EventStatus::Pending,
        )
        .await
        .unwrap();
    store
        .create_event(
            &event(york, EventKind::Canvass, start, None),
            EventStatus::Pending,
        )
        .await
        .unwrap();
    store
        .create_event(
            &event(leeds, EventKind::Social, start, None),
            EventStatus::Live,
        )
        .await
        .unwrap();
    let queue = store.pending_events(&[leeds]).await.unwrap();
    assert_eq!(queue.iter().map(|e| e.id).collect::<Vec<_>>(), [a.id, b.id]);
    assert_eq!(store.pending_events(&[leeds, york]).await.unwrap().len(), 3);
    assert!(store.pending_events(&[]).await.unwrap().is_empty());

    store
        .set_event_status(a.id, EventStatus::Live, "", Some(1), &no_notice)
        .await
        .unwrap();
    assert_eq!(
        store.recent_audit(1).await.unwrap()[0].action.as_str(),
        "event.approve"
    );
    store
        .set_event_status(
            b.id,
            EventStatus::Rejected,
            "Duplicate",
            Some(1),
            &no_notice,
        )
        .await
        .unwrap();
    assert_eq!(
        store.recent_audit(1).await.unwrap()[0].action.as_str(),
        "event.reject"
    );
    assert!(store.pending_events(&[leeds]).await.unwrap().is_empty());
    let err = store
        .set_event_status(999_999, EventStatus::Live, "", None, &no_notice)
        .await;
    assert!(matches!(err, Err(StoreError::NotFound)));
}

both_backends!(pending_events_wait_for_approval => pending_events_wait_for_approval);

with_url!(
    create_read_update_with_notices => create_read_update_with_notices,
    cancelling_notifies_attendees_once => cancelling_notifies_attendees_once,
);
