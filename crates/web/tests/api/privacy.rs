//! The privacy notice and consent proof as people meet them: the RSVP form's tick boxes are
//! the words kept with the consent, every form that collects details and every mail link
//! to the notice, and an administrator publishes a new version that later consents record.

use crate::app::{BASE_URL, Browser, TestApp};
use crate::on_both;
use axum::http::StatusCode;
use barnstorm_domain::event::{Channel, EventKind, EventStatus, LocationPrecision};
use barnstorm_store::events::NewEvent;
use barnstorm_store::{GroupKind, now_millis};

const DAY: i64 = 24 * 3_600_000;

async fn live_event(app: &TestApp) -> i64 {
    let group = app
        .store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let starts = now_millis() + 3 * DAY;
    let event = NewEvent {
        postcode: Some("LS1 4AP".into()),
        address: "Civic Hall".into(),
        location: Some((53.8, -1.55)),
        precision: LocationPrecision::Postcode,
        ..NewEvent::new(
            group.id,
            EventKind::Canvass,
            "Canvass in Leeds",
            starts,
            starts + 7_200_000,
        )
    };
    app.store
        .create_event(&event, EventStatus::Live)
        .await
        .unwrap()
        .id
}

/// RSVPs by the page with email consent ticked; returns the supporter's consents.
async fn rsvp_ticking_email(
    app: &TestApp,
    id: i64,
    email: &str,
) -> Vec<barnstorm_store::events::Consent> {
    let mut visitor = Browser::new(app);
    let page = visitor.get(&format!("/events/{id}")).await;
    let posted = visitor
        .submit(
            &page,
            &format!("/events/{id}/rsvp"),
            &[
                ("name", "Sam Supporter"),
                ("email", email),
                ("postcode", "LS6 1AA"),
                ("consent_email", "on"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    let supporter = app.store.supporter_by_email(email).await.unwrap().unwrap();
    app.store.consents(supporter.id).await.unwrap()
}

async fn consents_keep_the_words_ticked_and_the_notice_in_force(app: TestApp) {
    let id = live_event(&app).await;
    let page = Browser::new(&app).get(&format!("/events/{id}")).await;
    let wording = Channel::Email.consent_wording("Leeds");
    assert!(
        page.body.contains(&format!("> {wording}</label>")),
        "the tick box says {wording}: {}",
        page.body
    );
    assert!(page.body.contains("href=\"/privacy\""), "{}", page.body);

    let consents = rsvp_ticking_email(&app, id, "sam@example.org").await;
    assert_eq!(consents.len(), 1);
    assert_eq!(consents[0].wording.as_deref(), Some(wording.as_str()));
    assert_eq!(consents[0].source_detail, format!("{BASE_URL}/events/{id}"));
    assert_eq!(consents[0].privacy_notice_id, None);

    let mail = app.store.claim_due_mail(10, 60_000).await.unwrap();
    assert!(!mail.is_empty());
    for m in &mail {
        assert!(
            m.mail
                .body_text
                .contains(&format!("How we use your data: {BASE_URL}/privacy")),
            "{}",
            m.mail.body_text
        );
    }

    let notice = Browser::new(&app).get("/privacy").await;
    assert_eq!(notice.status, StatusCode::OK);
    assert!(
        notice.body.contains("How we use your data")
            && notice
                .body
                .contains("90 days after the phone bank finishes"),
        "the default notice, with this instance's periods: {}",
        notice.body
    );

    app.user("ada@example.org", "Ada Admin", true).await;
    app.user("olu@example.org", "Olu", false).await;
    let mut olu = Browser::new(&app);
    olu.sign_in("olu@example.org").await;
    assert_eq!(
        olu.get("/admin/privacy").await.status,
        StatusCode::FORBIDDEN
    );

    let mut ada = Browser::new(&app);
    ada.sign_in("ada@example.org").await;
    let edit = ada.get("/admin/privacy").await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.body);
    let empty = ada.submit(&edit, "/admin/privacy", &[("body", "  ")]).await;
    assert_eq!(empty.status, StatusCode::SEE_OTHER);
    let shown = ada.get("/admin/privacy").await;
    assert!(
        shown.body.contains("Notice: write the privacy notice"),
        "{}",
        shown.body
    );
    assert!(app.store.privacy_notice().await.unwrap().is_none());
    let published = ada
        .submit(
            &edit,
            "/admin/privacy",
            &[(
                "body",
                "## Leeds for Change\n\nWrite to privacy@example.org about your data.",
            )],
        )
        .await;
    assert_eq!(published.status, StatusCode::SEE_OTHER);
    let version = app.store.privacy_notice().await.unwrap().unwrap().id;
    let notice = Browser::new(&app).get("/privacy").await;
    assert!(
        notice.body.contains("Write to privacy@example.org")
            && notice
                .body
                .contains(&format!("Version {version}, published")),
        "{}",
        notice.body
    );

    let dpo = app.user("dee@example.org", "Dee", false).await;
    app.store.set_data_protection(dpo.id, true).await.unwrap();
    let mut dee = Browser::new(&app);
    dee.sign_in("dee@example.org").await;
    let theirs = dee.get("/admin/privacy").await;
    assert_eq!(
        theirs.status,
        StatusCode::OK,
        "a data-protection officer edits it too"
    );
    assert!(
        theirs
            .body
            .contains(&format!("Version {version}, published")),
        "{}",
        theirs.body
    );

    let later = rsvp_ticking_email(&app, id, "kim@example.org").await;
    assert_eq!(later[0].privacy_notice_id, Some(version));
    assert_eq!(later[0].wording, consents[0].wording);
}

async fn forms_that_collect_details_link_to_the_notice(app: TestApp) {
    let login = Browser::new(&app).get("/login").await;
    assert!(
        login
            .body
            .contains("<a href=\"/privacy\">privacy notice</a>"),
        "{}",
        login.body
    );
    let any = Browser::new(&app).get("/").await;
    assert!(
        any.body.contains("<a href=\"/privacy\">Privacy notice</a>"),
        "every page's footer"
    );
}

on_both!(
    consent_proof => consents_keep_the_words_ticked_and_the_notice_in_force,
    privacy_links => forms_that_collect_details_link_to_the_notice,
);
