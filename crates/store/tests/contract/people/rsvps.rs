use super::{
    DAY, HOUR, event_with_shifts, group, live_event, new_event, queued_mail, rsvp, rsvp_mail,
};
use barnstorm_domain::event::{Channel, EventStatus, RsvpStatus};
use barnstorm_store::events::{ClosedReason, FeedbackError, NewRsvp, RsvpError, SlotCounts};
use barnstorm_store::{Store, StoreError, both_backends, now_millis};

async fn a_full_event_has_a_waiting_list_that_moves_up(store: Store) {
    let g = group(&store, "Manchester").await;
    let event = live_event(&store, g, Some(2)).await;
    let mut made = Vec::new();
    for name in ["ann", "bo", "cy"] {
        let new = rsvp(event.id, &format!("{name}@example.org"), &[Channel::Email]);
        let r = store.create_rsvp(&new, &rsvp_mail).await.unwrap();
        made.push((r, new.manage_token));
    }
    let statuses: Vec<_> = made.iter().map(|(r, _)| r.status).collect();
    assert_eq!(
        statuses,
        [RsvpStatus::Going, RsvpStatus::Going, RsvpStatus::Waitlist]
    );
    let counts = store.rsvp_counts(event.id).await.unwrap();
    assert_eq!((counts.going, counts.waitlist), (2, 1));
    let mail = queued_mail(&store).await;
    assert_eq!(
        mail,
        [
            (
                "ann@example.org".to_owned(),
                "going: Canvass in Hulme".to_owned()
            ),
            (
                "bo@example.org".to_owned(),
                "going: Canvass in Hulme".to_owned()
            ),
            (
                "cy@example.org".to_owned(),
                "waitlist: Canvass in Hulme".to_owned()
            ),
        ]
    );

    // The manage link shows the RSVP; only the hash of its token was stored.
    let view = store.rsvp_by_token(&made[0].1).await.unwrap().unwrap();
    assert_eq!((view.rsvp.id, view.name.as_str()), (made[0].0.id, "ann"));
    assert_eq!(view.event_title, "Canvass in Hulme");
    assert!(store.rsvp_by_token("not-a-token").await.unwrap().is_none());

    // Ann cancels: she is mailed that it is done, and Cy gets her place and a mail saying
    // so with a manage link of its own, all in the same transaction.
    let cancelled = store
        .cancel_rsvp(&made[0].1, &rsvp_mail)
        .await
        .unwrap()
        .unwrap();
    assert!(cancelled.changed);
    assert_eq!(cancelled.promoted, [made[2].0.id]);
    let mails = store.claim_due_mail(100, 60_000).await.unwrap();
    let sent: Vec<(&str, &str)> = mails
        .iter()
        .map(|m| (m.mail.to.as_str(), m.mail.subject.as_str()))
        .collect();
    assert_eq!(
        sent,
        [
            ("ann@example.org", "you cancelled: Canvass in Hulme"),
            ("cy@example.org", "place: Canvass in Hulme"),
        ]
    );
    let cy_link = mails[1].mail.body_text.trim_start_matches("Manage: ");
    let cy = store.rsvp_by_token(cy_link).await.unwrap().unwrap();
    assert_eq!(
        (cy.name.as_str(), cy.rsvp.status),
        ("cy", RsvpStatus::Going)
    );
    assert!(
        store.rsvp_by_token(&made[2].1).await.unwrap().is_some(),
        "the link in Cy's confirmation still works"
    );
    let again = store
        .cancel_rsvp(&made[0].1, &rsvp_mail)
        .await
        .unwrap()
        .unwrap();
    assert!(!again.changed && again.promoted.is_empty());
    assert!(
        store
            .cancel_rsvp("not-a-token", &rsvp_mail)
            .await
            .unwrap()
            .is_none()
    );
    let counts = store.rsvp_counts(event.id).await.unwrap();
    assert_eq!((counts.going, counts.waitlist), (2, 0));

    // Someone waiting who cancels frees no place.
    let dee = rsvp(event.id, "dee@example.org", &[]);
    store.create_rsvp(&dee, &rsvp_mail).await.unwrap();
    let gone = store
        .cancel_rsvp(&dee.manage_token, &rsvp_mail)
        .await
        .unwrap()
        .unwrap();
    assert!(gone.promoted.is_empty());
    let actions: Vec<String> = store
        .recent_audit(100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action.as_str().to_owned())
        .collect();
    for action in [
        "rsvp.create",
        "rsvp.cancel",
        "rsvp.promote",
        "consent.grant",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action} audited");
    }
}

async fn signing_up_twice_keeps_one_place(store: Store) {
    let g = group(&store, "Manchester").await;
    let event = live_event(&store, g, Some(1)).await;
    let first = rsvp(
        event.id,
        "ann@example.org",
        &[Channel::Email, Channel::Phone],
    );
    let a = store.create_rsvp(&first, &rsvp_mail).await.unwrap();
    let second = rsvp(event.id, "ann@example.org", &[]);
    let b = store.create_rsvp(&second, &rsvp_mail).await.unwrap();
    assert_eq!((a.id, b.id), (b.id, a.id));
    assert_eq!(
        b.status,
        RsvpStatus::Going,
        "not put on the waiting list behind herself"
    );
    assert_eq!(store.rsvp_counts(event.id).await.unwrap().going, 1);
    // Within the hour a repeat sends no mail, so the first mail's link keeps working
    // and the repeat's unsent link never does.
    assert!(
        store
            .rsvp_by_token(&first.manage_token)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .rsvp_by_token(&second.manage_token)
            .await
            .unwrap()
            .is_none()
    );

    // Consent is proven by where it was given.
    let consents = store.consents(a.supporter_id).await.unwrap();
    assert_eq!(consents.len(), 2);
    assert!(
        consents
            .iter()
            .all(|c| c.group_id == g && c.source == format!("rsvp:{}", event.id))
    );

    // Cancelled, then back: the same RSVP again, with a place if one is free.
    store
        .cancel_rsvp(&second.manage_token, &rsvp_mail)
        .await
        .unwrap();
    let third = rsvp(event.id, "ann@example.org", &[]);
    let c = store.create_rsvp(&third, &rsvp_mail).await.unwrap();
    assert_eq!((c.id, c.status), (a.id, RsvpStatus::Going));
    assert_eq!(store.attendees(event.id).await.unwrap().len(), 1);
}

async fn closed_events_refuse_sign_ups_in_words(store: Store) {
    let g = group(&store, "Manchester").await;
    let err = store
        .create_rsvp(&rsvp(999_999, "a@example.org", &[]), &rsvp_mail)
        .await;
    assert!(matches!(err, Err(RsvpError::EventNotFound)));

    let soon = now_millis() + DAY;
    let pending = store
        .create_event(&new_event(g, soon, None), EventStatus::Pending)
        .await
        .unwrap();
    let err = store
        .create_rsvp(&rsvp(pending.id, "a@example.org", &[]), &rsvp_mail)
        .await;
    assert!(matches!(err, Err(RsvpError::Closed(ClosedReason::NotLive))));

    let cancelled = store
        .create_event(&new_event(g, soon, None), EventStatus::Cancelled)
        .await
        .unwrap();
    let err = store
        .create_rsvp(&rsvp(cancelled.id, "a@example.org", &[]), &rsvp_mail)
        .await
        .unwrap_err();
    assert!(matches!(err, RsvpError::Closed(ClosedReason::Cancelled)));
    assert_eq!(err.to_string(), "this event has been cancelled");

    let past = store
        .create_event(
            &new_event(g, now_millis() - 3 * HOUR, None),
            EventStatus::Live,
        )
        .await
        .unwrap();
    let err = store
        .create_rsvp(&rsvp(past.id, "a@example.org", &[]), &rsvp_mail)
        .await;
    assert!(matches!(err, Err(RsvpError::Closed(ClosedReason::Ended))));

    let live = live_event(&store, g, None).await;
    let other = event_with_shifts(&store, g, &[3]).await;
    let mut wrong_shift = rsvp(live.id, "a@example.org", &[Channel::Email]);
    wrong_shift.shift_id = Some(other.shifts[0].id);
    let err = store
        .create_rsvp(&wrong_shift, &rsvp_mail)
        .await
        .unwrap_err();
    assert!(matches!(err, RsvpError::ShiftNotOfEvent));
    assert!(err.to_string().contains("time slot"));

    // Refused sign-ups leave nothing behind: no supporter, no consent, no mail.
    assert!(
        store
            .supporter_by_email("a@example.org")
            .await
            .unwrap()
            .is_none()
    );
    assert!(queued_mail(&store).await.is_empty());
}

async fn shifts_have_their_own_places(store: Store) {
    let g = group(&store, "Manchester").await;
    let event = event_with_shifts(&store, g, &[1, 1]).await;
    let (s1, s2) = (event.shifts[0].id, event.shifts[1].id);
    let on = |email: &str, shift: i64| NewRsvp {
        shift_id: Some(shift),
        ..rsvp(event.id, email, &[])
    };
    let ann = store
        .create_rsvp(&on("ann@example.org", s1), &rsvp_mail)
        .await
        .unwrap();
    let bo = store
        .create_rsvp(&on("bo@example.org", s1), &rsvp_mail)
        .await
        .unwrap();
    let cy = store
        .create_rsvp(&on("cy@example.org", s2), &rsvp_mail)
        .await
        .unwrap();
    assert_eq!(
        [ann.status, bo.status, cy.status],
        [RsvpStatus::Going, RsvpStatus::Waitlist, RsvpStatus::Going]
    );
    let counts = store.rsvp_counts(event.id).await.unwrap();
    assert_eq!((counts.going, counts.waitlist), (2, 1));
    assert_eq!(
        counts.shifts,
        [
            (
                s1,
                SlotCounts {
                    going: 1,
                    waitlist: 1
                }
            ),
            (
                s2,
                SlotCounts {
                    going: 1,
                    waitlist: 0
                }
            )
        ]
    );
    queued_mail(&store).await;

    // Ann moves to the full second shift: she waits there, and Bo gets her old place.
    let moved = store
        .create_rsvp(&on("ann@example.org", s2), &rsvp_mail)
        .await
        .unwrap();
    assert_eq!((moved.id, moved.status), (ann.id, RsvpStatus::Waitlist));
    let attendees = store.attendees(event.id).await.unwrap();
    let bo_now = attendees.iter().find(|a| a.rsvp_id == bo.id).unwrap();
    assert_eq!(
        (bo_now.status, bo_now.shift_id),
        (RsvpStatus::Going, Some(s1))
    );
    let mail = queued_mail(&store).await;
    assert!(mail.contains(&(
        "bo@example.org".to_owned(),
        "place: Canvass in Hulme".to_owned()
    )));
    assert!(mail.contains(&(
        "ann@example.org".to_owned(),
        "waitlist: Canvass in Hulme".to_owned()
    )));
}

async fn hosts_mark_attendance_and_attendees_give_feedback(store: Store) {
    let g = group(&store, "Manchester").await;
    let event = live_event(&store, g, None).await;
    let other = live_event(&store, g, None).await;
    let mut new = rsvp(event.id, "ann@example.org", &[]);
    new.supporter.phone = Some("0161 496 0123".into());
    let r = store.create_rsvp(&new, &rsvp_mail).await.unwrap();

    let list = store.attendees(event.id).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (
            list[0].name.as_str(),
            list[0].email.as_str(),
            list[0].phone.as_deref()
        ),
        ("ann", "ann@example.org", Some("0161 496 0123"))
    );
    assert_eq!(list[0].attended, None);
    assert!(store.attendees(other.id).await.unwrap().is_empty());

    store
        .set_attended(event.id, r.id, Some(true))
        .await
        .unwrap();
    assert_eq!(
        store.attendees(event.id).await.unwrap()[0].attended,
        Some(true)
    );
    store
        .set_attended(event.id, r.id, Some(false))
        .await
        .unwrap();
    assert_eq!(
        store.attendees(event.id).await.unwrap()[0].attended,
        Some(false)
    );
    let wrong = store.set_attended(other.id, r.id, Some(true)).await;
    assert!(
        matches!(wrong, Err(StoreError::NotFound)),
        "an RSVP of another event"
    );

    let token = &new.manage_token;
    assert!(matches!(
        store.record_feedback(token, 0, "").await,
        Err(FeedbackError::BadRating)
    ));
    assert!(matches!(
        store.record_feedback(token, 6, "").await,
        Err(FeedbackError::BadRating)
    ));
    let long = "x".repeat(5_001);
    assert!(matches!(
        store.record_feedback(token, 4, &long).await,
        Err(FeedbackError::TooLong)
    ));
    assert!(matches!(
        store.record_feedback("nope", 4, "").await,
        Err(FeedbackError::UnknownLink)
    ));
    store
        .record_feedback(token, 4, " Good doors, friendly team ")
        .await
        .unwrap();
    let view = store.rsvp_by_token(token).await.unwrap().unwrap();
    assert_eq!(
        view.feedback,
        Some((4, "Good doors, friendly team".to_owned()))
    );
}

async fn twenty_racing_for_five_places(store: Store) {
    let g = group(&store, "Manchester").await;
    let event = live_event(&store, g, Some(5)).await;
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let store = store.clone();
            let new = rsvp(
                event.id,
                &format!("racer{n}@example.org"),
                &[Channel::Email],
            );
            tokio::spawn(async move { store.create_rsvp(&new, &rsvp_mail).await })
        })
        .collect();
    let mut going = 0;
    for task in tasks {
        if task.await.unwrap().unwrap().status == RsvpStatus::Going {
            going += 1;
        }
    }
    assert_eq!(going, 5);
    let counts = store.rsvp_counts(event.id).await.unwrap();
    assert_eq!((counts.going, counts.waitlist), (5, 15));
    assert_eq!(queued_mail(&store).await.len(), 20);
}

both_backends!(
    a_full_event_has_a_waiting_list_that_moves_up => a_full_event_has_a_waiting_list_that_moves_up,
    signing_up_twice_keeps_one_place => signing_up_twice_keeps_one_place,
    closed_events_refuse_sign_ups_in_words => closed_events_refuse_sign_ups_in_words,
    shifts_have_their_own_places => shifts_have_their_own_places,
    hosts_mark_attendance_and_attendees_give_feedback => hosts_mark_attendance_and_attendees_give_feedback,
    twenty_racing_for_five_places => twenty_racing_for_five_places,
);
