//! A repeated RSVP from the same address to the same event sends one mail within the
//! hour and keeps the manage link already mailed, by API and by form; the form redirects
//! after its POST.

use crate::app::{Browser, TestApp};
use crate::discover::{live, national, new_event};
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_domain::event::EventKind;
use serde_json::json;

/// The manage links mailed so far, and drains the outbox.
async fn manage_links(app: &TestApp) -> Vec<String> {
    let mails = app.store.claim_due_mail(100, 1000).await.unwrap();
    mails
        .iter()
        .filter_map(|m| {
            let body = &m.mail.body_text;
            let start = body.find("http://barnstorm.test/rsvp/")?;
            Some(
                body[start..]
                    .split_whitespace()
                    .next()?
                    .trim_start_matches("http://barnstorm.test")
                    .to_owned(),
            )
        })
        .collect()
}

async fn a_repeated_rsvp_sends_one_mail_and_keeps_the_link(app: TestApp) {
    let group = national(&app, "Leeds Left").await;
    let event = live(
        &app,
        new_event(group.id, "Social", "LS6", 2, EventKind::Social),
    )
    .await;
    let path = format!("/api/v1/events/{}/rsvps", event.id);
    let body = json!({"name": "Ruth", "email": "ruth@example.org", "postcode": "LS6 1AB"});
    for _ in 0..5 {
        let made = app.api(Method::POST, &path, None, Some(body.clone())).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    }
    let links = manage_links(&app).await;
    assert_eq!(links.len(), 1, "one mail for five RSVPs: {links:?}");
    let manage = Browser::new(&app).get(&links[0]).await;
    assert_eq!(manage.status, StatusCode::OK, "the first link still works");

    // The event page's form: the same rule, and a redirect after the POST.
    let mut visitor = Browser::new(&app);
    let page = visitor.get(&format!("/events/{}", event.id)).await;
    let fields = [
        ("name", "Ruth"),
        ("email", "ruth@example.org"),
        ("postcode", "LS6 1AB"),
    ];
    let posted = visitor
        .submit(&page, &format!("/events/{}/rsvp", event.id), &fields)
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    let shown = visitor.get(posted.location()).await;
    assert!(shown.body.contains("re going to Social"), "{}", shown.body);
    assert!(manage_links(&app).await.is_empty(), "no second mail");
    let manage = Browser::new(&app).get(&links[0]).await;
    assert_eq!(
        manage.status,
        StatusCode::OK,
        "the first link is not voided"
    );
}

on_both! {
    repeated_rsvp => a_repeated_rsvp_sends_one_mail_and_keeps_the_link,
}
