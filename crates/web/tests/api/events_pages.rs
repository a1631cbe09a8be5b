//! Event pages through the real router: hosting, approval, RSVPs and the waiting list,
//! notices to attendees, the attendee list's access rules, hubs, the calendar and the
//! reminder job, on both databases.

use crate::app::{BASE_URL, Browser, TestApp, TestResponse};
use crate::on_both;
use axum::http::StatusCode;
use barnstorm_domain::event_notices::{NoticeKind, due_at};
use barnstorm_store::{Group, GroupKind, NewMail, Role};
use chrono::{Days, TimeZone};

const XSS: &str = "<script>alert('x')</script>";

/// A day a few days ahead, as the form wants it, and that day's 19:00 London time.
fn future_day(days: u64) -> (String, i64) {
    let day = chrono::Utc::now().date_naive() + Days::new(days);
    let start = chrono_tz::Europe::London
        .from_local_datetime(&day.and_hms_opt(19, 0, 0).unwrap())
        .single()
        .unwrap()
        .timestamp_millis();
    (day.format("%Y-%m-%d").to_string(), start)
}

/// A group whose organisers chose to publish events at once (new groups ask for approval).
async fn group(app: &TestApp, name: &str) -> Group {
    let group = app
        .store
        .create_group(None, name, GroupKind::National, "", None)
        .await
        .unwrap();
    app.store
        .set_group_event_approval(group.id, barnstorm_domain::event::EventApproval::Open, None)
        .await
        .unwrap();
    group
}

/// Signs in a new person.
async fn person<'a>(app: &'a TestApp, email: &str, name: &str) -> Browser<'a> {
    app.user(email, name, false).await;
    let mut browser = Browser::new(app);
    browser.sign_in(email).await;
    browser
}

/// Submits the host form with sensible values, `changes` overriding them.
async fn submit_event(
    browser: &mut Browser<'_>,
    group: &Group,
    changes: &[(&str, &str)],
) -> TestResponse {
    let (date, _) = future_day(3);
    let mut fields: Vec<(&str, String)> = vec![
        ("group", group.slug.clone()),
        ("kind", "social".into()),
        ("title", "Summer social".into()),
        ("description", "Come **along**.".into()),
        ("date", date),
        ("start_time", "19:00".into()),
        ("end_time", "21:00".into()),
        ("time_zone", "Europe/London".into()),
        ("postcode", "LS1 4AP".into()),
        ("address", "Civic Hall".into()),
        ("visibility", "public".into()),
    ];
    for (key, value) in changes {
        match fields.iter_mut().find(|(k, _)| k == key) {
            Some(field) => field.1 = (*value).to_owned(),
            None => fields.push((key, (*value).to_owned())),
        }
    }
    let form = browser.get("/events/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.submit(&form, "/events/new", &pairs).await
}

async fn create_event(browser: &mut Browser<'_>, group: &Group, changes: &[(&str, &str)]) -> i64 {
    let response = submit_event(browser, group, changes).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    response
        .location()
        .strip_prefix("/events/")
        .unwrap()
        .parse()
        .unwrap()
}

/// RSVPs anonymously; returns the page shown after the form's redirect.
async fn rsvp(app: &TestApp, event_id: i64, name: &str, email: &str) -> TestResponse {
    let mut visitor = Browser::new(app);
    let page = visitor.get(&format!("/events/{event_id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let posted = visitor
        .submit(
            &page,
            &format!("/events/{event_id}/rsvp"),
            &[("name", name), ("email", email), ("postcode", "LS6 1AA")],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    visitor.get(posted.location()).await
}

async fn outbox(app: &TestApp) -> Vec<NewMail> {
    app.store
        .claim_due_mail(500, 60_000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.mail)
        .collect()
}

fn manage_link(mail: &NewMail) -> String {
    let start = mail.body_text.find(&format!("{BASE_URL}/rsvp/")).unwrap() + BASE_URL.len();
    mail.body_text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

async fn events_go_live_or_wait_by_the_group_policy(app: TestApp) {
    let leeds = group(&app, "Leeds").await;
    let organiser = app.user("org@example.org", "Olu Organiser", false).await;
    app.store
        .set_membership(leeds.id, organiser.id, Role::Organiser, None)
        .await
        .unwrap();
    let mut sam = person(&app, "sam@example.org", "Sam Supporter").await;
    let open = submit_event(&mut sam, &leeds, &[]).await;
    assert_eq!(open.status, StatusCode::SEE_OTHER, "{}", open.body);
    let page = sam.get(open.location()).await;
    assert!(page.body.contains("Your event is live"), "{}", page.body);

    let mut org = Browser::new(&app);
    org.sign_in("org@example.org").await;
    let group_page = org.get(&format!("/groups/{}", leeds.slug)).await;
    let set = org
        .submit(
            &group_page,
            &format!("/groups/{}/event-approval", leeds.slug),
            &[("policy", "approval")],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);

    let waiting = submit_event(&mut sam, &leeds, &[("title", "Needs approval")]).await;
    let id: i64 = waiting
        .location()
        .trim_start_matches("/events/")
        .parse()
        .unwrap();
    let page = sam.get(waiting.location()).await;
    assert!(
        page.body
            .contains("sent to the organisers of Leeds for approval"),
        "{}",
        page.body
    );
    assert_eq!(
        Browser::new(&app)
            .get(&format!("/events/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "a pending event is hidden from the public"
    );

    let queue = org
        .get(&format!("/groups/{}/events/pending", leeds.slug))
        .await;
    assert!(queue.body.contains("Needs approval"), "{}", queue.body);
    let decided = org
        .submit(
            &queue,
            &format!("/events/{id}/decision"),
            &[("decision", "trust"), ("note", "")],
        )
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.body);
    assert_eq!(
        Browser::new(&app)
            .get(&format!("/events/{id}"))
            .await
            .status,
        StatusCode::OK
    );
    let mails = outbox(&app).await;
    assert!(
        mails
            .iter()
            .any(|m| m.to == "sam@example.org" && m.subject.starts_with("Your event is live")),
        "{mails:?}"
    );
    let sam_id = app
        .store
        .user_by_email("sam@example.org")
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(
        app.store.effective_role(sam_id, leeds.id).await.unwrap(),
        Some(Role::Host)
    );
    assert!(
        app.store.is_trusted_host(sam_id, leeds.id).await.unwrap(),
        "a trusted host skips the queue from now on"
    );
    let next = submit_event(&mut sam, &leeds, &[("title", "Straight through")]).await;
    let page = sam.get(next.location()).await;
    assert!(page.body.contains("Your event is live"), "{}", page.body);
}

async fn rsvps_fill_places_then_the_waiting_list(app: TestApp) {
    let leeds = group(&app, "Leeds").await;
    let mut host = person(&app, "host@example.org", "Hana Host").await;
    let id = create_event(&mut host, &leeds, &[("capacity", "1")]).await;

    let first = rsvp(&app, id, "Ada", "ada@example.org").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.body.contains("re going to "), "{}", first.body);
    let second = rsvp(&app, id, "Bo", "bo@example.org").await;
    assert!(
        second.body.contains("re on the waiting list (number 1)"),
        "{}",
        second.body
    );
    let page = Browser::new(&app).get(&format!("/events/{id}")).await;
    assert!(
        page.body.contains("Full — join the waiting list"),
        "{}",
        page.body
    );

    let mails = outbox(&app).await;
    let ada_mail = mails.iter().find(|m| m.to == "ada@example.org").unwrap();
    assert!(ada_mail.subject.starts_with("You're going"), "{ada_mail:?}");
    assert!(
        ada_mail.body_text.contains("19:00–21:00"),
        "{}",
        ada_mail.body_text
    );
    assert_eq!(ada_mail.sender_name.as_deref(), Some("Leeds"));
    let calendar = &ada_mail.attachments[0];
    assert_eq!(calendar.filename, format!("event-{id}.ics"));
    assert!(calendar.content_type.starts_with("text/calendar"));
    assert!(
        calendar.content.contains("LOCATION:Civic Hall\\, LS1 4AP"),
        "an attendee's calendar entry has the exact address: {}",
        calendar.content
    );
    let link = manage_link(ada_mail);
    let mut ada = Browser::new(&app);
    let manage = ada.get(&link).await;
    assert_eq!(manage.status, StatusCode::OK, "{}", manage.body);
    assert!(manage.body.contains("Civic Hall"), "the exact address");

    // Cancelling asks first, and a post without the answer keeps the place.
    assert!(manage.body.contains(&format!("href=\"{link}/cancel\"")));
    let question = ada.get(&format!("{link}/cancel")).await;
    assert!(
        question.body.contains("Cancel your place?"),
        "{}",
        question.body
    );
    assert!(
        question.body.contains("No, keep my place"),
        "{}",
        question.body
    );
    let unconfirmed = ada.submit(&question, &format!("{link}/cancel"), &[]).await;
    assert_eq!(unconfirmed.location(), format!("{link}/cancel"));
    assert_eq!(app.store.rsvp_counts(id).await.unwrap().going, 1);
    let cancelled = ada
        .submit(&question, &format!("{link}/cancel"), &[("confirm", "yes")])
        .await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    let mails = outbox(&app).await;
    let ada_done = mails.iter().find(|m| m.to == "ada@example.org").unwrap();
    assert!(
        ada_done.subject.starts_with("You cancelled your place"),
        "{ada_done:?}"
    );
    let bo_mail = mails
        .iter()
        .find(|m| m.to == "bo@example.org" && m.subject.starts_with("A place has freed up"))
        .unwrap();
    let bo_page = Browser::new(&app).get(&manage_link(bo_mail)).await;
    assert!(
        bo_page.body.contains("You&#39;re going."),
        "the mail's own manage link opens Bo's place: {}",
        bo_page.body
    );
    let list = host.get(&format!("/events/{id}/attendees")).await;
    assert!(list.body.contains("bo@example.org"), "{}", list.body);
}

async fn attendees_hear_about_changes_and_cancellation(app: TestApp) {
    let leeds = group(&app, "Leeds").await;
    let mut host = person(&app, "host@example.org", "Hana Host").await;
    let id = create_event(&mut host, &leeds, &[]).await;
    rsvp(&app, id, "Ada", "ada@example.org").await;
    outbox(&app).await;

    let form = host.get(&format!("/events/{id}/edit")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let (date, _) = future_day(3);
    let fields = [
        ("kind", "social"),
        ("title", "Summer social"),
        ("date", date.as_str()),
        ("start_time", "18:00"),
        ("end_time", "21:00"),
        ("postcode", "LS1 4AP"),
        ("address", "Civic Hall"),
        ("tell_attendees", "on"),
    ];
    let saved = host
        .submit(&form, &format!("/events/{id}/edit"), &fields)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, "ada@example.org");
    assert!(mails[0].subject.starts_with("Changed:"));
    assert!(
        mails[0].body_text.contains("18:00–21:00"),
        "{}",
        mails[0].body_text
    );

    let page = host.get(&format!("/events/{id}")).await;
    let done = host
        .submit(
            &page,
            &format!("/events/{id}/cancel"),
            &[("reason", "The hall flooded")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].subject.starts_with("Cancelled:"));
    assert!(mails[0].body_text.contains("The hall flooded"));
    assert_eq!(mails[0].sender_name.as_deref(), Some("Leeds"));
    assert!(
        mails[0].attachments[0].content.contains("STATUS:CANCELLED"),
        "the calendar entry removes the event: {:?}",
        mails[0].attachments
    );
    let page = Browser::new(&app).get(&format!("/events/{id}")).await;
    assert!(
        page.body.contains("This event has been cancelled"),
        "{}",
        page.body
    );
}

async fn mistakes_are_named_against_their_field(app: TestApp) {
    let leeds = group(&app, "Leeds").await;
    let mut host = person(&app, "host@example.org", "Hana Host").await;
    let bad = submit_event(&mut host, &leeds, &[("postcode", "ZZ99 9ZZ")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"postcode-error\""), "{}", bad.body);
    assert!(bad.body.contains("not a postcode we know"), "{}", bad.body);
    let backwards = submit_event(&mut host, &leeds, &[("end_time", "18:00")]).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        backwards.body.contains(
            "<span id=\"end_time-error\" class=\"field-error\">End must be after the start.</span>"
        ),
        "{}",
        backwards.body
    );
    assert!(
        backwards.body.contains("value=\"Summer social\""),
        "input is kept"
    );
    let link = submit_event(&mut host, &leeds, &[("online_url", "javascript:alert(1)")]).await;
    assert!(
        link.body.contains("id=\"online_url-error\""),
        "{}",
        link.body
    );

    let id = create_event(&mut host, &leeds, &[]).await;
    let mut visitor = Browser::new(&app);
    let page = visitor.get(&format!("/events/{id}")).await;
    let wrong = visitor
        .submit(
            &page,
            &format!("/events/{id}/rsvp"),
            &[
                ("name", ""),
                ("email", "not-an-address"),
                ("postcode", "ZZ99 9ZZ"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["rsvp-name-error", "rsvp-email-error", "rsvp-postcode-error"] {
        assert!(wrong.body.contains(field), "{field}: {}", wrong.body);
    }
}

async fn hostile_text_is_shown_inert(app: TestApp) {
    let leeds = group(&app, "Leeds").await;
    let mut host = person(&app, "host@example.org", "Hana Host").await;
    let description = format!("{XSS}\n\n<img src=x onerror=alert(1)> [click](javascript:alert(1))");
    let id = create_event(
        &mut host,
        &leeds,
        &[("title", XSS), ("description", &description)],
    )
    .await;
    rsvp(&app, id, XSS, "eve@example.org").await;
    let page = Browser::new(&app).get(&format!("/events/{id}")).await;
    let list = host.get(&format!("/events/{id}/attendees")).await;
    for body in [&page.body, &list.body] {
        assert!(!body.contains("<script>alert"), "{body}");
        assert!(!body.contains("onerror"), "{body}");
        assert!(!body.contains("javascript:"), "{body}");
        assert!(
            body.contains("&lt;script&gt;") || body.contains("&#60;script"),
            "{body}"
        );
    }
}

async fn only_the_host_and_organisers_see_attendees(app: TestApp) {
    let leeds = group(&app, "Leeds").await;
    let mut host = person(&app, "host@example.org", "Hana Host").await;
    let id = create_event(&mut host, &leeds, &[]).await;
    rsvp(&app, id, "Ada", "ada@example.org").await;
    let mut other = person(&app, "mo@example.org", "Mo").await;
    for path in [
        format!("/events/{id}/attendees"),
        format!("/events/{id}/attendees.csv"),
        format!("/events/{id}/edit"),
    ] {
        let refused = other.get(&path).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!refused.body.contains("ada@example.org"));
    }
    let anonymous = Browser::new(&app)
        .get(&format!("/events/{id}/attendees"))
        .await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    let csv = host.get(&format!("/events/{id}/attendees.csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.contains("Ada,ada@example.org"), "{}", csv.body);

    let rsvp_id = app.store.attendees(id).await.unwrap()[0].rsvp_id;
    let list = host.get(&format!("/events/{id}/attendees")).await;
    let marked = host
        .submit(
            &list,
            &format!("/events/{id}/attendees/{rsvp_id}/attended"),
            &[("attended", "yes")],
        )
        .await;
    assert_eq!(marked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.attendees(id).await.unwrap()[0].attended,
        Some(true)
    );
    let forged = other
        .submit(
            &list,
            &format!("/events/{id}/attendees/{rsvp_id}/attended"),
            &[("attended", "no")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

async fn group_pages_list_events_and_the_calendar_shows_them(app: TestApp) {
    let leeds = group(&app, "Leeds").await;
    let mut host = person(&app, "host@example.org", "Hana Host").await;
    create_event(&mut host, &leeds, &[("title", "Canvass in Headingley")]).await;
    let page = Browser::new(&app)
        .get(&format!("/groups/{}", leeds.slug))
        .await;
    assert!(page.body.contains("Canvass in Headingley"), "{}", page.body);
    assert!(page.body.contains("Host an event here"));
    assert!(
        page.body
            .contains(&format!("/groups/{}/calendar", leeds.slug))
    );

    let mine = host.get(&format!("/groups/{}", leeds.slug)).await;
    assert!(mine.body.contains("Join Leeds"), "{}", mine.body);
    let joined = host
        .submit(&mine, &format!("/groups/{}/join", leeds.slug), &[])
        .await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER);
    let host_id = app
        .store
        .user_by_email("host@example.org")
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(
        app.store.effective_role(host_id, leeds.id).await.unwrap(),
        Some(Role::Member)
    );

    let (date, _) = future_day(3);
    let month = &date[..7];
    let day: u32 = date[8..].parse().unwrap();
    let calendar = Browser::new(&app)
        .get(&format!("/groups/{}/calendar?month={month}", leeds.slug))
        .await;
    assert_eq!(calendar.status, StatusCode::OK);
    let cell = calendar
        .body
        .split("<td")
        .find(|c| c.contains("Canvass in Headingley"))
        .unwrap_or_else(|| panic!("{}", calendar.body));
    assert!(cell.contains(&format!(">{day}</span>")), "{cell}");
    assert!(cell.contains("19:00"), "{cell}");
}

async fn the_reminder_job_queues_each_notice_once(app: TestApp) {
    let leeds = group(&app, "Leeds").await;
    let mut host = person(&app, "host@example.org", "Hana Host").await;
    let id = create_event(&mut host, &leeds, &[]).await;
    rsvp(&app, id, "Ada", "ada@example.org").await;
    let confirmation = manage_link(&outbox(&app).await[0]);
    let event = app.store.event(id).await.unwrap().unwrap();
    let now = due_at(
        NoticeKind::DayBefore,
        event.starts_at,
        event.ends_at,
        chrono_tz::Europe::London,
    );
    let config = barnstorm_web::WebConfig::new(BASE_URL);
    let first = barnstorm_web::jobs::queue_due_reminders(&app.store, &config, now)
        .await
        .unwrap();
    let again = barnstorm_web::jobs::queue_due_reminders(&app.store, &config, now + 1000)
        .await
        .unwrap();
    assert_eq!((first, again), (1, 0));
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].subject, "Tomorrow: Summer social");
    assert!(mails[0].body_text.contains("Civic Hall"));
    let reminder = manage_link(&mails[0]);
    assert_ne!(
        reminder, confirmation,
        "the reminder carries a link of its own"
    );
    for link in [reminder, confirmation] {
        let page = Browser::new(&app).get(&link).await;
        assert!(
            page.body.contains("cancel my place"),
            "{link} opens Ada's place: {}",
            page.body
        );
    }
}

async fn attendees_give_feedback_from_their_link(app: TestApp) {
    let leeds = group(&app, "Leeds").await;
    let mut host = person(&app, "host@example.org", "Hana Host").await;
    // Started an hour ago, still on: sign-ups are open and feedback is asked.
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Europe::London);
    let start = now - chrono::Duration::hours(1);
    let end = now + chrono::Duration::hours(1);
    let starts_at = start.format("%Y-%m-%dT%H:%M").to_string();
    let ends_at = end.format("%Y-%m-%dT%H:%M").to_string();
    let id = create_event(
        &mut host,
        &leeds,
        &[
            ("date", ""),
            ("start_time", ""),
            ("end_time", ""),
            ("starts_at", &starts_at),
            ("ends_at", &ends_at),
        ],
    )
    .await;
    rsvp(&app, id, "Ada", "ada@example.org").await;
    let mails = outbox(&app).await;
    let link = manage_link(mails.iter().find(|m| m.to == "ada@example.org").unwrap());
    let mut ada = Browser::new(&app);
    let manage = ada.get(&link).await;
    assert!(manage.body.contains("How was it?"), "{}", manage.body);
    let sent = ada
        .submit(
            &manage,
            &format!("{link}/feedback"),
            &[
                ("attended", "yes"),
                ("rating", "5"),
                ("comment", "Great fun"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let after = ada.get(&link).await;
    assert!(
        after.body.contains("You rated it 5 out of 5"),
        "{}",
        after.body
    );
    assert_eq!(
        app.store.attendees(id).await.unwrap()[0].attended,
        Some(true)
    );
}

on_both! {
    events_go_live_or_wait_by_the_group_policy => events_go_live_or_wait_by_the_group_policy,
    rsvps_fill_places_then_the_waiting_list => rsvps_fill_places_then_the_waiting_list,
    attendees_hear_about_changes_and_cancellation => attendees_hear_about_changes_and_cancellation,
    mistakes_are_named_against_their_field => mistakes_are_named_against_their_field,
    hostile_text_is_shown_inert => hostile_text_is_shown_inert,
    only_the_host_and_organisers_see_attendees => only_the_host_and_organisers_see_attendees,
    group_pages_list_events_and_the_calendar_shows_them => group_pages_list_events_and_the_calendar_shows_them,
    the_reminder_job_queues_each_notice_once => the_reminder_job_queues_each_notice_once,
    attendees_give_feedback_from_their_link => attendees_give_feedback_from_their_link,
}
