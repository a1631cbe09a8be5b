//! Event listings (hub, calendar, host, public API with tombstones), bulk insert and
//! campaign meetup plans.

use crate::events::{DAY, HOUR, event, group, no_notice, raw, rsvp};
use barnstorm_domain::event::{EventKind, EventStatus, Visibility};
use barnstorm_store::events::{Breakout, NewEvent, PublicEventFilter};
use barnstorm_store::{DatabaseUrl, Store, StoreError, both_backends};

async fn listings_and_tombstones(store: Store) {
    let leeds = group(&store, "Leeds").await;
    let york = group(&store, "York").await;
    let now = barnstorm_store::now_millis();
    let before = now - 1;
    let mut ids = Vec::new();
    for (n, kind) in [EventKind::Canvass, EventKind::Phonebank, EventKind::Social]
        .into_iter()
        .enumerate()
    {
        let mut new = event(leeds, kind, now + (3 - n as i64) * DAY, None);
        new.host_user_id = None;
        ids.push(
            store
                .create_event(&new, EventStatus::Live)
                .await
                .unwrap()
                .id,
        );
    }
    let mut members_only = event(leeds, EventKind::Social, now + DAY / 2, None);
    members_only.visibility = Visibility::Group;
    let members_only = store
        .create_event(&members_only, EventStatus::Live)
        .await
        .unwrap();
    let mut unlisted = event(york, EventKind::Social, now + DAY, None);
    unlisted.visibility = Visibility::Unlisted;
    store
        .create_event(&unlisted, EventStatus::Live)
        .await
        .unwrap();
    let york_live = store
        .create_event(
            &event(york, EventKind::Canvass, now + DAY, None),
            EventStatus::Live,
        )
        .await
        .unwrap();

    let hub = store
        .group_events(&[leeds, york], false, now, now + 10 * DAY)
        .await
        .unwrap();
    let hub_ids: Vec<i64> = hub.iter().map(|e| e.id).collect();
    assert_eq!(
        hub_ids,
        [ids[2], york_live.id, ids[1], ids[0]],
        "by start, then id"
    );
    let calendar = store
        .group_events(&[leeds], true, now, now + 10 * DAY)
        .await
        .unwrap();
    assert_eq!(calendar[0].id, members_only.id);
    assert_eq!(calendar.len(), 4);
    let window = store
        .group_events(&[leeds], false, now + 2 * DAY, now + 2 * DAY + 1)
        .await
        .unwrap();
    assert_eq!(window.iter().map(|e| e.id).collect::<Vec<_>>(), [ids[1]]);

    let page = |after_id, kinds: Vec<EventKind>| PublicEventFilter {
        kinds,
        limit: 2,
        after_id,
        ..PublicEventFilter::default()
    };
    let first = store.list_public_events(&page(None, vec![])).await.unwrap();
    assert_eq!(
        first.iter().map(|e| e.id).collect::<Vec<_>>(),
        [ids[0], ids[1]]
    );
    let second = store
        .list_public_events(&page(Some(ids[1]), vec![]))
        .await
        .unwrap();
    assert_eq!(
        second.iter().map(|e| e.id).collect::<Vec<_>>(),
        [ids[2], york_live.id]
    );
    let canvasses = store
        .list_public_events(&page(None, vec![EventKind::Canvass]))
        .await
        .unwrap();
    assert_eq!(
        canvasses.iter().map(|e| e.id).collect::<Vec<_>>(),
        [ids[0], york_live.id]
    );
    let dated = PublicEventFilter {
        starts_after: Some(now + 2 * DAY),
        starts_before: Some(now + 3 * DAY + 1),
        group_id: Some(leeds),
        updated_since: Some(before),
        limit: 10,
        ..PublicEventFilter::default()
    };
    let dated = store.list_public_events(&dated).await.unwrap();
    assert_eq!(
        dated.iter().map(|e| e.id).collect::<Vec<_>>(),
        [ids[0], ids[1]]
    );

    assert!(store.withdrawn_public_events(before).await.unwrap().len() == 2);
    store.delete_event(ids[0], Some(3)).await.unwrap();
    assert_eq!(store.event(ids[0]).await.unwrap(), None, "deleted is gone");
    assert!(matches!(
        store.delete_event(ids[0], None).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.recent_audit(1).await.unwrap()[0].action.as_str(),
        "event.delete"
    );
    store
        .set_event_status(ids[1], EventStatus::Cancelled, "", None, &no_notice)
        .await
        .unwrap();
    let withdrawn: Vec<i64> = store
        .withdrawn_public_events(before)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    for id in [ids[0], ids[1], members_only.id] {
        assert!(withdrawn.contains(&id), "{id} in {withdrawn:?}");
    }
    assert!(!withdrawn.contains(&ids[2]));
    let listed = store
        .list_public_events(&PublicEventFilter {
            limit: 10,
            ..PublicEventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|e| e.id).collect::<Vec<_>>(),
        [ids[2], york_live.id]
    );
}

async fn hosts_see_their_events(store: Store) {
    let g = group(&store, "Leeds").await;
    let host = store
        .create_user("host@example.org", "Host", None, false)
        .await
        .unwrap()
        .id;
    let now = barnstorm_store::now_millis();
    let mut mine = event(g, EventKind::Canvass, now + 2 * DAY, None);
    mine.host_user_id = Some(host);
    let later = store.create_event(&mine, EventStatus::Live).await.unwrap();
    mine.starts_at = now + DAY;
    mine.ends_at = now + DAY + HOUR;
    let sooner = store
        .create_event(&mine, EventStatus::Pending)
        .await
        .unwrap();
    store
        .create_event(&event(g, EventKind::Canvass, now, None), EventStatus::Live)
        .await
        .unwrap();
    let hosted = store.events_hosted_by(host).await.unwrap();
    assert_eq!(
        hosted.iter().map(|e| e.id).collect::<Vec<_>>(),
        [sooner.id, later.id]
    );
    assert_eq!(hosted[0].status, EventStatus::Pending);
}

async fn bulk_insert_counts_rows(store: Store) {
    let g = group(&store, "Leeds").await;
    let now = barnstorm_store::now_millis();
    let batch: Vec<NewEvent> = (0..4_500)
        .map(|n| event(g, EventKind::Phonebank, now + n * HOUR, Some((52.0, -1.0))))
        .collect();
    assert_eq!(
        store
            .insert_events_bulk(&batch, EventStatus::Live)
            .await
            .unwrap(),
        4_500
    );
    let all = store
        .group_events(&[g], false, now, now + 5_000 * HOUR)
        .await
        .unwrap();
    assert_eq!(all.len(), 4_500);
    let mut bad = batch[..2].to_vec();
    bad[1].ends_at = bad[1].starts_at - 1;
    assert!(matches!(
        store.insert_events_bulk(&bad, EventStatus::Live).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn meetup_plan_counts_sessions(store: Store, url: DatabaseUrl) {
    let g = group(&store, "Leeds").await;
    let now = barnstorm_store::now_millis();
    let meetup = store
        .create_event(
            &event(g, EventKind::Meetup, now + DAY, None),
            EventStatus::Live,
        )
        .await
        .unwrap();
    let callers = store
        .add_breakout(meetup.id, " Callers ", "Sam", None)
        .await
        .unwrap();
    let doors = store
        .add_breakout(meetup.id, "Doors", "", None)
        .await
        .unwrap();
    assert_eq!(callers.name, "Callers");
    assert_eq!(
        store.breakouts(meetup.id).await.unwrap(),
        vec![callers.clone(), doors.clone()]
    );
    assert!(matches!(
        store.add_breakout(999_999, "x", "", None).await,
        Err(StoreError::NotFound)
    ));

    let session = |kind, days: i64, breakout: &Breakout| {
        let mut new = event(g, kind, now + days * DAY, None);
        new.parent_event_id = Some(meetup.id);
        new.breakout_id = Some(breakout.id);
        new
    };
    let s3 = store
        .create_event(
            &session(EventKind::Phonebank, 4, &callers),
            EventStatus::Live,
        )
        .await
        .unwrap();
    let s1 = store
        .create_event(
            &session(EventKind::Phonebank, 2, &callers),
            EventStatus::Live,
        )
        .await
        .unwrap();
    let s2 = store
        .create_event(
            &session(EventKind::Phonebank, 3, &callers),
            EventStatus::Pending,
        )
        .await
        .unwrap();
    let s4 = store
        .create_event(&session(EventKind::Canvass, 5, &doors), EventStatus::Live)
        .await
        .unwrap();
    let off = store
        .create_event(&session(EventKind::Canvass, 6, &doors), EventStatus::Live)
        .await
        .unwrap();
    store
        .set_event_status(off.id, EventStatus::Cancelled, "", None, &no_notice)
        .await
        .unwrap();
    let gone = store
        .create_event(&session(EventKind::Canvass, 7, &doors), EventStatus::Live)
        .await
        .unwrap();
    store.delete_event(gone.id, None).await.unwrap();

    let pool = raw(&url).await;
    for n in 0..3 {
        rsvp(&pool, s1.id, None, &format!("p{n}@example.org"), "going").await;
    }
    rsvp(&pool, s1.id, None, "w@example.org", "waitlist").await;
    rsvp(&pool, s4.id, None, "p0@example.org", "going").await;
    rsvp(&pool, off.id, None, "p1@example.org", "going").await;
    rsvp(&pool, s3.id, None, "p1@example.org", "cancelled").await;

    let plan = store.meetup_plan(meetup.id).await.unwrap();
    let order: Vec<i64> = plan.sessions.iter().map(|s| s.event.id).collect();
    assert_eq!(order, [s1.id, s2.id, s3.id, s4.id]);
    let going: Vec<i64> = plan.sessions.iter().map(|s| s.going).collect();
    assert_eq!(going, [3, 0, 0, 1]);
    assert_eq!(plan.sessions[3].breakout_id, Some(doors.id));
    assert_eq!(
        plan.sessions_by_kind,
        vec![(EventKind::Phonebank, 3), (EventKind::Canvass, 1)]
    );
    assert_eq!(plan.total_signups, 4);
    assert_eq!(store.meetup_plan(s1.id).await.unwrap().sessions.len(), 0);
    pool.close().await;
}

both_backends!(
    listings_and_tombstones => listings_and_tombstones,
    hosts_see_their_events => hosts_see_their_events,
    bulk_insert_counts_rows => bulk_insert_counts_rows,
);

crate::with_url!(meetup_plan_counts_sessions => meetup_plan_counts_sessions);
