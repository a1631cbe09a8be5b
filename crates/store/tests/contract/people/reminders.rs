use super::{DAY, HOUR, event_at, group, queued_mail, rsvp, rsvp_mail};
use barnstorm_domain::event_notices::{NoticeKind, due_at};
use barnstorm_store::events::DueNotice;
use barnstorm_store::{NewMail, Store, both_backends, new_secret, now_millis};
use chrono::TimeZone;
use std::collections::BTreeMap;

/// 19:00 London time, three days from now.
fn evening_in_three_days() -> i64 {
    let london = chrono_tz::Europe::London;
    let day = chrono::Utc::now().with_timezone(&london).date_naive() + chrono::Days::new(3);
    london
        .from_local_datetime(&day.and_hms_opt(19, 0, 0).unwrap())
        .single()
        .unwrap()
        .timestamp_millis()
}

fn notice_mail(n: &DueNotice) -> NewMail {
    NewMail {
        to: n.email.clone(),
        subject: format!("{}: {}", n.kind.as_str(), n.title),
        body_text: n.address.clone(),
        headers: BTreeMap::new(),
        ..Default::default()
    }
}

async fn each_notice_falls_due_once(store: Store) {
    let g = group(&store, "Manchester").await;
    let starts = evening_in_three_days();
    let event = event_at(&store, g, starts).await;
    let ann = rsvp(event.id, "ann@example.org", &[]);
    let ann_id = store.create_rsvp(&ann, &rsvp_mail).await.unwrap().id;
    let bo = rsvp(event.id, "bo@example.org", &[]);
    store.create_rsvp(&bo, &rsvp_mail).await.unwrap();
    store
        .cancel_rsvp(&bo.manage_token, &rsvp_mail)
        .await
        .unwrap();
    queued_mail(&store).await;
    let tz = chrono_tz::Europe::London;
    let ends = event.ends_at;

    assert!(
        store
            .due_notices(now_millis(), 100)
            .await
            .unwrap()
            .is_empty()
    );
    let day_before = due_at(NoticeKind::DayBefore, starts, ends, tz);
    assert!(
        store
            .due_notices(day_before - 1, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let due = store.due_notices(day_before, 100).await.unwrap();
    assert_eq!(due.len(), 1, "cancelled RSVPs get no reminder");
    let n = &due[0];
    assert_eq!(
        (n.rsvp_id, n.kind, n.event_id),
        (ann_id, NoticeKind::DayBefore, event.id)
    );
    assert_eq!(
        (n.name.as_str(), n.email.as_str()),
        ("ann", "ann@example.org")
    );
    assert_eq!(
        (n.starts_at, n.time_zone.as_str()),
        (starts, "Europe/London")
    );
    assert_eq!(n.address, "Hulme Library");

    assert!(
        store
            .queue_notice(n.rsvp_id, n.kind, &new_secret(), &notice_mail(n))
            .await
            .unwrap()
    );
    assert!(
        !store
            .queue_notice(n.rsvp_id, n.kind, &new_secret(), &notice_mail(n))
            .await
            .unwrap()
    );
    assert!(
        store
            .due_notices(day_before + HOUR, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        queued_mail(&store).await,
        [(
            "ann@example.org".to_owned(),
            "day_before: Canvass in Hulme".to_owned()
        )]
    );

    // On the day (08:00), and nothing once it has started.
    let on_the_day = due_at(NoticeKind::OnTheDay, starts, ends, tz);
    let due = store.due_notices(on_the_day, 100).await.unwrap();
    assert_eq!(
        due.iter().map(|n| n.kind).collect::<Vec<_>>(),
        [NoticeKind::OnTheDay]
    );
    assert!(store.due_notices(starts, 100).await.unwrap().is_empty());

    // Feedback an hour after the end, for a week.
    let due = store.due_notices(ends + HOUR, 100).await.unwrap();
    assert_eq!(
        due.iter().map(|n| n.kind).collect::<Vec<_>>(),
        [NoticeKind::Feedback]
    );
    assert!(
        store
            .due_notices(ends + 7 * DAY, 100)
            .await
            .unwrap()
            .is_empty()
    );

    // A cancelled RSVP's notice is not queued even if a job saw it as due.
    store
        .cancel_rsvp(&ann.manage_token, &rsvp_mail)
        .await
        .unwrap();
    let stale = &due[0];
    assert!(
        !store
            .queue_notice(
                stale.rsvp_id,
                stale.kind,
                &new_secret(),
                &notice_mail(stale)
            )
            .await
            .unwrap()
    );
}

async fn late_sign_ups_get_no_day_before_reminder(store: Store) {
    let g = group(&store, "Manchester").await;
    let starts = now_millis() + 5 * HOUR;
    let event = event_at(&store, g, starts).await;
    store
        .create_rsvp(&rsvp(event.id, "ann@example.org", &[]), &rsvp_mail)
        .await
        .unwrap();
    // Whatever the time of day the test runs, "see you tomorrow" is never due.
    for now in [starts - 4 * HOUR, starts - 2 * HOUR, starts - 1] {
        let due = store.due_notices(now, 100).await.unwrap();
        assert!(
            due.iter().all(|n| n.kind != NoticeKind::DayBefore),
            "{due:?}"
        );
    }
    let due = store.due_notices(starts + 3 * HOUR, 100).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].kind, NoticeKind::Feedback);
}

async fn two_jobs_queue_each_notice_once(store: Store) {
    let g = group(&store, "Manchester").await;
    let starts = evening_in_three_days();
    let event = event_at(&store, g, starts).await;
    for n in 0..8 {
        store
            .create_rsvp(
                &rsvp(event.id, &format!("p{n}@example.org"), &[]),
                &rsvp_mail,
            )
            .await
            .unwrap();
    }
    queued_mail(&store).await;
    let now = due_at(
        NoticeKind::DayBefore,
        starts,
        event.ends_at,
        chrono_tz::Europe::London,
    );
    let jobs: Vec<_> = (0..2)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut queued = 0;
                for notice in store.due_notices(now, 100).await.unwrap() {
                    let mail = notice_mail(&notice);
                    if store
                        .queue_notice(notice.rsvp_id, notice.kind, &new_secret(), &mail)
                        .await
                        .unwrap()
                    {
                        queued += 1;
                    }
                    tokio::task::yield_now().await;
                }
                queued
            })
        })
        .collect();
    let mut total = 0;
    for job in jobs {
        total += job.await.unwrap();
    }
    assert_eq!(total, 8);
    let mail = queued_mail(&store).await;
    assert_eq!(mail.len(), 8);
    let mut to: Vec<_> = mail.into_iter().map(|(to, _)| to).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 8, "one reminder each");
}

both_backends!(
    each_notice_falls_due_once => each_notice_falls_due_once,
    late_sign_ups_get_no_day_before_reminder => late_sign_ups_get_no_day_before_reminder,
    two_jobs_queue_each_notice_once => two_jobs_queue_each_notice_once,
);
