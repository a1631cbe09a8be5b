//! The phonebank pages as a person uses them: an organiser sets up a campaign and goes
//! live, a volunteer joins by invite link and calls one contact at a time.

use crate::app::{Browser, TestApp, TestResponse};
use crate::on_both;
use axum::http::{StatusCode, header};
use barnstorm_dispatch::import::import_contacts;
use barnstorm_domain::contact_import::{ColumnMapping, read_headers};
use barnstorm_domain::outcome::{OutcomeEffect, OutcomeSet};
use barnstorm_store::{Group, GroupKind, Role, now_millis};
use std::io::Cursor;

/// The editor's fields for "Can we count on your support?" (yes/no) and, shown after "no",
/// "What would change your mind?" (free text up to 20 characters).
const SURVEY: &[(&str, &str)] = &[
    ("q-id", "support"),
    ("q-key", "support"),
    ("q-label", "Can we count on your support?"),
    ("q-kind", "single_choice"),
    ("opt-key", "yes"),
    ("opt-label", "Yes"),
    ("opt-key", "no"),
    ("opt-label", "No"),
    ("q-show_if", ""),
    ("q-id", "why_not"),
    ("q-key", "why_not"),
    ("q-label", "What would change your mind?"),
    ("q-kind", "free_text"),
    ("q-max_len", "20"),
    ("q-show_if", "support"),
    ("q-show_if_answer", "No"),
];

/// The editor's fields for the UK outcomes and calling hours open all week.
fn outcomes_and_hours() -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for o in OutcomeSet::default_uk().iter() {
        let (effect, cooldown) = match o.effect {
            OutcomeEffect::RetryAfter { cooldown_minutes } => {
                ("retry_after", cooldown_minutes.to_string())
            }
            OutcomeEffect::Completed => ("completed", String::new()),
            OutcomeEffect::Callback => ("callback", String::new()),
            OutcomeEffect::WrongNumber => ("wrong_number", String::new()),
            OutcomeEffect::Refused => ("refused", String::new()),
            OutcomeEffect::DoNotCall => ("do_not_call", String::new()),
        };
        fields.push(("o-key".to_owned(), o.key.clone()));
        fields.push(("o-label".to_owned(), o.label.clone()));
        fields.push(("o-effect".to_owned(), effect.to_owned()));
        fields.push(("o-cooldown".to_owned(), cooldown));
        if o.counts_as_conversation {
            fields.push(("o-conversation".to_owned(), "on".to_owned()));
        }
    }
    fields.push(("time_zone".to_owned(), "Europe/London".to_owned()));
    for day in [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ] {
        fields.push((format!("day-{day}-open"), "on".to_owned()));
        fields.push((format!("day-{day}-start"), "00:00".to_owned()));
        fields.push((format!("day-{day}-end"), "24:00".to_owned()));
    }
    fields
}

async fn branch_with_organiser(app: &TestApp) -> Group {
    let organiser = app.user("olu@example.org", "Olu Organiser", false).await;
    let branch = app
        .store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    app.store
        .set_membership(branch.id, organiser.id, Role::Organiser, None)
        .await
        .unwrap();
    branch
}

/// The organiser creates a campaign in the editor with `survey`'s fields.
async fn create_campaign(
    browser: &mut Browser<'_>,
    slug: &str,
    survey: &[(&str, &str)],
) -> TestResponse {
    let form = browser.get(&format!("/groups/{slug}/campaigns/new")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let rest = outcomes_and_hours();
    let mut fields: Vec<(&str, &str)> = vec![
        ("name", "Spring phone bank"),
        ("briefing", "Be kind."),
        (
            "script",
            "Hello {first_name|there}, I'm calling from Leeds.",
        ),
    ];
    fields.extend_from_slice(survey);
    fields.extend(rest.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    fields.push(("action", "save"));
    browser
        .submit(&form, &format!("/groups/{slug}/campaigns/new"), &fields)
        .await
}

fn campaign_id_of(response: &TestResponse) -> i64 {
    response
        .location()
        .trim_start_matches("/campaigns/")
        .parse()
        .unwrap_or_else(|_| panic!("not a campaign page: {}", response.location()))
}

async fn go_live(browser: &mut Browser<'_>, id: i64) {
    let page = browser.get(&format!("/campaigns/{id}")).await;
    assert!(page.body.contains("Go live"), "{}", page.body);
    let live = browser
        .submit(
            &page,
            &format!("/campaigns/{id}/status"),
            &[("status", "live")],
        )
        .await;
    assert_eq!(live.status, StatusCode::SEE_OTHER);
    let page = browser.get(&format!("/campaigns/{id}")).await;
    assert!(
        page.body.contains("data-campaign-status>live<"),
        "{}",
        page.body
    );
}

async fn import(app: &TestApp, campaign_id: i64, csv: &str) {
    let campaign = app.store.campaign(campaign_id).await.unwrap().unwrap();
    let mapping = ColumnMapping::guess(&read_headers(Cursor::new(csv.to_owned())).unwrap());
    let job = app
        .store
        .create_import_job(campaign_id, None, "test.csv", &[])
        .await
        .unwrap();
    import_contacts(
        &app.store,
        &campaign,
        job.id,
        Cursor::new(csv.to_owned()),
        mapping,
        |_| {},
    )
    .await
    .unwrap();
}

/// Makes an invite link on the campaign page and returns its path.
async fn invite_link(browser: &mut Browser<'_>, id: i64, max_uses: &str) -> String {
    let page = browser.get(&format!("/campaigns/{id}")).await;
    let made = browser
        .submit(
            &page,
            &format!("/campaigns/{id}/invites"),
            &[("days", "7"), ("max_uses", max_uses)],
        )
        .await;
    // The link is shown once, on the answer that made it (only its hash is kept).
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let start = made
        .body
        .find("/call/join/")
        .expect("the answer shows the new invite link");
    let link = made.body[start..].split('"').next().unwrap().to_owned();
    let later = browser.get(&format!("/campaigns/{id}")).await;
    assert!(!later.body.contains(&link), "the link is not shown again");
    link
}

/// An organiser with a live campaign of two contacts and a volunteer who joined by link.
async fn live_campaign_with_caller(app: &TestApp) -> (i64, Browser<'_>) {
    let branch = branch_with_organiser(app).await;
    let mut organiser = Browser::new(app);
    organiser.sign_in("olu@example.org").await;
    let id = campaign_id_of(&create_campaign(&mut organiser, &branch.slug, SURVEY).await);
    import(
        app,
        id,
        "First name,Last name,Phone\nAda,Lovelace,020 7946 0001\nBrian,May,0113 496 0002\n",
    )
    .await;
    go_live(&mut organiser, id).await;
    let link = invite_link(&mut organiser, id, "").await;
    let mut volunteer = Browser::new(app);
    let page = volunteer.get(&link).await;
    let joined = volunteer
        .submit(
            &page,
            &link,
            &[("name", "Val Volunteer"), ("email", "val@example.org")],
        )
        .await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.body);
    (id, volunteer)
}

async fn organiser_creates_a_campaign_and_goes_live(app: TestApp) {
    let branch = branch_with_organiser(&app).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("olu@example.org").await;
    let group_page = browser.get(&format!("/groups/{}", branch.slug)).await;
    assert!(
        group_page
            .body
            .contains(&format!("/groups/{}/campaigns", branch.slug)),
        "organisers see the phone banks link"
    );

    let broken = create_campaign(
        &mut browser,
        &branch.slug,
        &[
            ("q-id", "new-1"),
            ("q-label", "Which ward?"),
            ("q-kind", "single_choice"),
        ],
    )
    .await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        broken
            .body
            .contains("Question 1: the option list is empty."),
        "the question's mistake is shown, in plain words: {}",
        broken.body
    );
    assert!(
        !broken.body.contains("JSON"),
        "the editor never asks for JSON"
    );
    assert!(
        broken.body.contains("Spring phone bank"),
        "what was typed is kept"
    );

    let created = create_campaign(&mut browser, &branch.slug, SURVEY).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = campaign_id_of(&created);
    let page = browser.get(&format!("/campaigns/{id}")).await;
    assert!(page.body.contains("data-campaign-status>draft<"));
    assert!(
        page.body.matches("Go live").count() == 1
            && page.body.contains("data-go-live hidden")
            && page.body.contains("Upload a list before going live"),
        "a draft with nobody to call is not offered \"Go live\" (its button stays hidden \
         until an upload brings contacts), and says why: {}",
        page.body
    );
    let refused = browser
        .submit(
            &page,
            &format!("/campaigns/{id}/status"),
            &[("status", "live")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let page = browser.get(&format!("/campaigns/{id}")).await;
    assert!(
        page.body.contains("data-campaign-status>draft<"),
        "going live by hand is refused too"
    );
    import(&app, id, "First name,Phone\nAda,020 7946 0001\n").await;
    go_live(&mut browser, id).await;
    let index = browser.get("/phonebank").await;
    assert!(
        index.body.contains(&format!("/campaigns/{id}")),
        "the campaign is listed for its organiser"
    );
    assert!(
        index.body.contains(&format!("/call/{id}")),
        "and it can be called"
    );

    let mut stranger = Browser::new(&app);
    app.user("sam@example.org", "Sam", false).await;
    stranger.sign_in("sam@example.org").await;
    assert_eq!(
        stranger.get(&format!("/campaigns/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        stranger.get(&format!("/call/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(
        !stranger
            .get("/phonebank")
            .await
            .body
            .contains(&format!("/call/{id}")),
        "someone who is not a caller does not see the campaign"
    );
}

async fn an_invite_link_makes_a_caller(app: TestApp) {
    let branch = branch_with_organiser(&app).await;
    let mut organiser = Browser::new(&app);
    organiser.sign_in("olu@example.org").await;
    let id = campaign_id_of(&create_campaign(&mut organiser, &branch.slug, SURVEY).await);
    import(&app, id, "First name,Phone\nAda,020 7946 0001\n").await;
    go_live(&mut organiser, id).await;
    let link = invite_link(&mut organiser, id, "1").await;

    let mut newcomer = Browser::new(&app);
    let page = newcomer.get(&link).await;
    assert!(
        page.body.contains("Join Spring phone bank"),
        "{}",
        page.body
    );
    let missing = newcomer
        .submit(&page, &link, &[("name", ""), ("email", "nia@example")])
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("id=\"email-error\""));
    let joined = newcomer
        .submit(
            &page,
            &link,
            &[("name", "Nia Newcomer"), ("email", "nia@example.org")],
        )
        .await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.body);
    assert_eq!(joined.location(), format!("/call/{id}"));
    assert!(
        newcomer.has_cookie("barnstorm_session"),
        "the newcomer is signed in"
    );
    let nia = app
        .store
        .user_by_email("nia@example.org")
        .await
        .unwrap()
        .expect("an account was made");
    assert!(nia.password_hash.is_none());
    assert!(app.store.is_campaign_caller(id, nia.id).await.unwrap());
    let listed = newcomer.get("/phonebank").await;
    assert!(
        listed.body.contains(&format!("/call/{id}")),
        "the new caller finds the campaign on their phone banks page"
    );
    assert!(
        !listed.body.contains(&format!("/campaigns/{id}\"")),
        "but not its organiser's page"
    );

    let mut late = Browser::new(&app);
    let used_up = late.get(&link).await;
    assert_eq!(used_up.status, StatusCode::GONE);
    assert!(
        used_up.body.contains("used as often as allowed"),
        "{}",
        used_up.body
    );
    assert_eq!(
        late.get("/call/join/not-a-code").await.status,
        StatusCode::NOT_FOUND
    );

    let link = invite_link(&mut organiser, id, "").await;
    let page = late.get(&link).await;
    let existing = late
        .submit(
            &page,
            &link,
            &[("name", "Olu"), ("email", "olu@example.org")],
        )
        .await;
    assert_eq!(existing.status, StatusCode::SEE_OTHER);
    assert!(
        existing
            .location()
            .starts_with("/login?next=%2Fcall%2Fjoin%2F"),
        "an existing account signs in first"
    );
}

async fn a_caller_sees_one_contact_and_records_outcomes(app: TestApp) {
    let (id, mut volunteer) = live_campaign_with_caller(&app).await;
    let page = volunteer.get(&format!("/call/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(
        page.body.contains("href=\"tel:+442079460001\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("Call Ada"));
    assert!(
        page.body
            .contains("Hello Ada, I&#x27;m calling from Leeds.")
            || page.body.contains("Hello Ada, I&#39;m calling from Leeds."),
        "the rendered script: {}",
        page.body
    );
    assert!(
        !page.body.contains("+441134960002"),
        "never a second contact"
    );

    let lease = field_value(&page.body, "lease_id");
    let key = field_value(&page.body, "idempotency_key");
    let invalid = volunteer
        .submit(
            &page,
            &format!("/call/{id}/outcome"),
            &[
                ("lease_id", &lease),
                ("idempotency_key", &key),
                ("answers[support]", "no"),
                (
                    "answers[why_not]",
                    "a reason far longer than twenty characters",
                ),
                ("outcome", "spoke"),
            ],
        )
        .await;
    assert_eq!(
        invalid.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        invalid.body
    );
    assert!(
        invalid.body.contains("id=\"error-why_not\""),
        "the error sits next to the question: {}",
        invalid.body
    );
    assert!(invalid.body.contains("the limit is 20"), "{}", invalid.body);
    assert!(
        invalid.body.contains("tel:+442079460001"),
        "the same contact stays on the page"
    );

    let fields = [
        ("lease_id", lease.as_str()),
        ("idempotency_key", key.as_str()),
        ("answers[support]", "no"),
        ("answers[why_not]", "lower rents"),
        ("outcome", "spoke"),
    ];
    let saved = volunteer
        .submit(&page, &format!("/call/{id}/outcome"), &fields)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let again = volunteer
        .submit(&page, &format!("/call/{id}/outcome"), &fields)
        .await;
    assert_eq!(
        again.status,
        StatusCode::SEE_OTHER,
        "a double submission is answered like the first"
    );
    assert_eq!(
        app.store.attempt_ids(id).await.unwrap().len(),
        1,
        "and recorded once"
    );

    let next = volunteer.get(&format!("/call/{id}")).await;
    assert!(next.body.contains("Saved: Spoke to them."), "{}", next.body);
    assert!(
        next.body.contains("tel:+441134960002"),
        "the next contact: {}",
        next.body
    );
    assert!(
        next.body.contains("data-my-calls>1<"),
        "personal figures count the call"
    );

    let mut organiser = Browser::new(&app);
    organiser.sign_in("olu@example.org").await;
    let stats = organiser
        .get(&format!("/campaigns/{id}/dashboard/stats"))
        .await;
    assert!(
        stats.body.contains("data-stat=\"calls\">1<"),
        "{}",
        stats.body
    );
    assert!(stats.body.contains("Val Volunteer"));
    let dashboard = organiser.get(&format!("/campaigns/{id}/dashboard")).await;
    assert!(dashboard.body.contains("data-events-url"));

    let results = organiser.get(&format!("/campaigns/{id}/results.csv")).await;
    assert_eq!(results.status, StatusCode::OK);
    assert!(
        results.body.starts_with("contact_id,first_name"),
        "{}",
        results.body
    );
    let spoke_rows = results
        .body
        .lines()
        .filter(|l| l.contains(",spoke,"))
        .count();
    assert_eq!(
        spoke_rows, 1,
        "the call's outcome is in the results: {}",
        results.body
    );
    let calls = organiser
        .get(&format!("/campaigns/{id}/attempts.csv"))
        .await;
    assert_eq!(
        calls.body.lines().count(),
        2,
        "a header and one call: {}",
        calls.body
    );
    assert!(calls.body.contains("Val Volunteer"));
    let refused = volunteer.get(&format!("/campaigns/{id}/results.csv")).await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "callers cannot download the list"
    );
}

async fn a_break_gives_the_contact_back(app: TestApp) {
    let (id, mut volunteer) = live_campaign_with_caller(&app).await;
    let page = volunteer.get(&format!("/call/{id}")).await;
    let lease = field_value(&page.body, "lease_id");
    assert_eq!(
        app.store
            .queue_counts(id, now_millis())
            .await
            .unwrap()
            .leased,
        1
    );
    let paused = volunteer
        .submit(&page, &format!("/call/{id}/break"), &[("lease_id", &lease)])
        .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER);
    let on_break = volunteer.get(paused.location()).await;
    assert!(
        on_break.body.contains("You are on a break"),
        "{}",
        on_break.body
    );
    assert!(on_break.body.contains("Resume calling"));
    assert!(
        !on_break.body.contains("tel:"),
        "no contact while on a break"
    );
    assert_eq!(
        app.store
            .queue_counts(id, now_millis())
            .await
            .unwrap()
            .leased,
        0,
        "the lease was released"
    );
    let heartbeat = volunteer
        .submit(&page, &format!("/call/leases/{lease}/heartbeat"), &[])
        .await;
    assert_eq!(
        heartbeat.status,
        StatusCode::CONFLICT,
        "a released lease cannot be kept alive"
    );
    assert!(
        heartbeat.json()["error"]
            .as_str()
            .unwrap()
            .contains("gave this contact back")
    );
}

async fn an_empty_queue_says_why(app: TestApp) {
    let (id, mut volunteer) = live_campaign_with_caller(&app).await;
    // Another caller holds both contacts.
    let mut second = Browser::new(&app);
    app.user("kim@example.org", "Kim", false).await;
    second.sign_in("kim@example.org").await;
    let kim = app
        .store
        .user_by_email("kim@example.org")
        .await
        .unwrap()
        .unwrap();
    let campaign = app.store.campaign(id).await.unwrap().unwrap();
    app.store
        .set_membership(campaign.group_id, kim.id, Role::Caller, None)
        .await
        .unwrap();
    let first = second.get(&format!("/call/{id}")).await;
    assert!(first.body.contains("tel:"));
    volunteer.get(&format!("/call/{id}")).await;
    let page = second.get(&format!("/call/{id}")).await;
    assert!(
        page.body.contains("tel:"),
        "Kim keeps the contact she holds"
    );

    let mut third = Browser::new(&app);
    app.user("lee@example.org", "Lee", false).await;
    let lee = app
        .store
        .user_by_email("lee@example.org")
        .await
        .unwrap()
        .unwrap();
    app.store
        .set_membership(campaign.group_id, lee.id, Role::Caller, None)
        .await
        .unwrap();
    third.sign_in("lee@example.org").await;
    let empty = third.get(&format!("/call/{id}")).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(
        empty.body.contains("Nobody to call right now"),
        "{}",
        empty.body
    );
    assert!(
        empty.body.contains("2 being called"),
        "the reason is given: {}",
        empty.body
    );
    assert!(empty.body.contains("Check again"));
}

pub(crate) fn field_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The editor without a script: buttons re-render it with a row more or moved, and
/// saving a live campaign changes it, audited.
async fn the_editor_changes_a_live_campaign_without_javascript(app: TestApp) {
    let (id, _volunteer) = live_campaign_with_caller(&app).await;
    let mut organiser = Browser::new(&app);
    organiser.sign_in("olu@example.org").await;
    let page = organiser.get(&format!("/campaigns/{id}")).await;
    assert!(
        page.body.contains(&format!("/campaigns/{id}/edit")),
        "the campaign page links to the editor"
    );
    let edit_path = format!("/campaigns/{id}/edit");
    let form = organiser.get(&edit_path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("Can we count on your support?") && !form.body.contains("JSON"));
    assert!(
        form.body
            .contains("Preview with the first contact on the list"),
        "{}",
        form.body
    );
    assert!(
        form.body
            .contains("Hello Ada, I&#x27;m calling from Leeds.")
            || form.body.contains("Hello Ada, I&#39;m calling from Leeds."),
        "the preview uses the list's first contact: {}",
        form.body
    );

    let rest = outcomes_and_hours();
    let with = |extra: &[(&'static str, &'static str)], script: &'static str| {
        let mut fields: Vec<(&str, &str)> = vec![("name", "Spring phone bank"), ("script", script)];
        fields.extend_from_slice(SURVEY);
        fields.extend_from_slice(extra);
        fields.extend(rest.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        fields
    };
    let added = organiser
        .submit(
            &form,
            &edit_path,
            &with(&[("action", "add-question")], "Hello"),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert!(
        added.body.contains("name=\"q-id\" value=\"new-1\""),
        "a third, blank question: {}",
        added.body
    );
    let moved = organiser
        .submit(
            &form,
            &edit_path,
            &with(&[("action", "down:support")], "Hello"),
        )
        .await;
    let first = moved.body.find("value=\"why_not\"").unwrap();
    let second = moved.body.find("name=\"q-id\" value=\"support\"").unwrap();
    assert!(first < second, "moved down");

    let saved = organiser
        .submit(
            &form,
            &edit_path,
            &with(&[("action", "save")], "Good evening {first_name|there}"),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let campaign = app.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(campaign.settings.script, "Good evening {first_name|there}");
    assert_eq!(campaign.status.as_str(), "live");
    let filter = barnstorm_store::AuditFilter {
        campaign_id: Some(id),
        actions: vec![barnstorm_store::AuditAction::CampaignUpdate],
        ..Default::default()
    };
    let audited = app.store.list_audit(&filter, 0, 10).await.unwrap();
    assert_eq!(audited.entries.len(), 1, "the edit is audited");
}

on_both! {
    the_editor_changes_a_live_campaign_without_javascript_ => the_editor_changes_a_live_campaign_without_javascript,
    organiser_creates_a_campaign_and_goes_live_ => organiser_creates_a_campaign_and_goes_live,
    an_invite_link_makes_a_caller_ => an_invite_link_makes_a_caller,
    a_caller_sees_one_contact_and_records_outcomes_ => a_caller_sees_one_contact_and_records_outcomes,
    a_break_gives_the_contact_back_ => a_break_gives_the_contact_back,
    an_empty_queue_says_why_ => an_empty_queue_says_why,
}
