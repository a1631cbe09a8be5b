//! Tools where people look for them: the event page as its host's dashboard (attendees,
//! supporters nearby, edit, duplicate, the linked phone bank), linking a phonebank event
//! to a call campaign by page and API (and refusing campaigns the person may not see),
//! the approval mail, consent to a group counting for its local groups' outreach, and the
//! rough edges of the header and branch pages.

use crate::app::{Browser, TestApp, TestResponse};
use crate::meetups::{live, live_campaign, new_event};
use crate::on_both;
use crate::outreach_safeguards::approve;
use axum::http::{Method, StatusCode};
use barnstorm_domain::event::{Channel, EventApproval, EventKind};
use barnstorm_store::events::{ConsentProof, NewSupporter};
use barnstorm_store::{Group, GroupKind, Role, User};
use serde_json::json;

/// Barnstorm UK with its organiser, the North region (no organisers of its own) and the
/// Leeds branch below it, with a member who hosts there.
struct Tree {
    uk: Group,
    north: Group,
    leeds: Group,
    host: User,
}

async fn tree(app: &TestApp) -> Tree {
    let organiser = app.user("org@example.org", "Olu Organiser", false).await;
    let host = app.user("hana@example.org", "Hana Host", false).await;
    let group = |parent: Option<i64>, name: &'static str, kind| async move {
        app.store
            .create_group(parent, name, kind, "", None)
            .await
            .unwrap()
    };
    let uk = group(None, "Barnstorm UK", GroupKind::National).await;
    let north = group(Some(uk.id), "North", GroupKind::Region).await;
    let leeds = group(Some(north.id), "Leeds", GroupKind::Branch).await;
    app.store
        .set_membership(uk.id, organiser.id, Role::Organiser, None)
        .await
        .unwrap();
    app.store
        .set_membership(leeds.id, host.id, Role::Host, None)
        .await
        .unwrap();
    Tree {
        uk,
        north,
        leeds,
        host,
    }
}

async fn signed_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    browser.sign_in(email).await;
    browser
}

/// `POST /api/v1/events` with `body` as `token`'s holder.
async fn create_by_api(app: &TestApp, token: &str, body: serde_json::Value) -> TestResponse {
    app.api(Method::POST, "/api/v1/events", Some(token), Some(body))
        .await
}

/// `PUT /api/v1/events/{event_id}/campaign` with `campaign_id` as `token`'s holder.
async fn link_by_api(
    app: &TestApp,
    event_id: i64,
    token: &str,
    campaign_id: Option<i64>,
) -> TestResponse {
    let path = format!("/api/v1/events/{event_id}/campaign");
    let body = json!({ "campaign_id": campaign_id });
    app.api(Method::PUT, &path, Some(token), Some(body)).await
}

async fn the_event_page_is_the_hosts_dashboard(app: TestApp) {
    let t = tree(&app).await;
    let event = live(
        &app,
        &new_event(t.leeds.id, Some(t.host.id), EventKind::Canvass, 5),
    )
    .await;
    let path = format!("/events/{}", event.id);
    let mut host = signed_in(&app, "hana@example.org").await;
    let page = host.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for tool in [
        format!("href=\"/events/{}/attendees\">Attendees: 0 going", event.id),
        format!(
            "href=\"/events/{}/outreach\">Message supporters nearby",
            event.id
        ),
        format!("href=\"/events/{}/edit\">Edit", event.id),
        format!("href=\"/events/new?from={}\">Duplicate", event.id),
    ] {
        assert!(page.body.contains(&tool), "{tool} missing: {}", page.body);
    }
    let public = Browser::new(&app).get(&path).await;
    assert!(!public.body.contains("Message supporters nearby"));
    assert!(!public.body.contains("/events/new?from="));

    // Duplicate: everything copied but the date, which the host chooses.
    let copy = host.get(&format!("/events/new?from={}", event.id)).await;
    assert_eq!(copy.status, StatusCode::OK, "{}", copy.body);
    assert!(copy.body.contains("Duplicate an event: choose its date"));
    assert!(copy.body.contains(&format!("value=\"{}\"", event.title)));
    assert!(copy.body.contains("Friends Meeting House, Mount Street"));
    assert!(
        copy.body.contains("name=\"date\" type=\"date\" value=\"\""),
        "{}",
        copy.body
    );
    let stranger = app.user("sam@example.org", "Sam Stranger", false).await;
    assert!(!stranger.is_admin);
    let refused = signed_in(&app, "sam@example.org")
        .await
        .get(&format!("/events/new?from={}", event.id))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "only its host copies it"
    );

    // "My events" is in the header and lists what I host and what I signed up for.
    assert!(page.body.contains("<a href=\"/my/events\">My events</a>"));
    let other = live(&app, &new_event(t.uk.id, None, EventKind::Social, 6)).await;
    let other_page = host.get(&format!("/events/{}", other.id)).await;
    let rsvp = host
        .submit(
            &other_page,
            &format!("/events/{}/rsvp", other.id),
            &[
                ("name", "Hana Host"),
                ("email", "hana@example.org"),
                ("postcode", "M1 1AE"),
            ],
        )
        .await;
    assert_eq!(rsvp.status, StatusCode::SEE_OTHER, "{}", rsvp.body);
    let mine = host.get("/my/events").await;
    let going = mine.body.split("Events I host").next().unwrap();
    assert!(going.contains(&other.title), "{}", mine.body);
    assert!(
        mine.body
            .contains(&format!("/events/new?from={}", event.id))
    );
}

async fn a_phonebank_event_links_only_campaigns_its_linker_may_see(app: TestApp) {
    let t = tree(&app).await;
    let national = live_campaign(&app, t.uk.id, "National calling").await;
    let event = live(
        &app,
        &new_event(t.leeds.id, Some(t.host.id), EventKind::Phonebank, 5),
    )
    .await;
    let path = format!("/events/{}", event.id);
    let link = format!("{path}/campaign");

    // The Leeds host cannot see the national campaign, so may not link it.
    let mut host = signed_in(&app, "hana@example.org").await;
    let page = host.get(&path).await;
    assert!(!page.body.contains("National calling"), "{}", page.body);
    let national_id = national.to_string();
    let refused = host
        .submit(&page, &link, &[("campaign_id", &national_id)])
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let event_now = app.store.event(event.id).await.unwrap().unwrap();
    assert_eq!(
        event_now.campaign_id, None,
        "a host cannot link what they cannot see"
    );
    let token = app.token_for("hana@example.org").await;
    let answer = link_by_api(&app, event.id, &token, Some(national)).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert_eq!(answer.json()["error"]["details"]["field"], "campaign_id");
    let created = create_by_api(
        &app,
        &token,
        json!({
            "group_id": t.leeds.id, "kind": "phonebank", "title": "Leeds calls",
            "date": "2035-06-09", "start_time": "18:00", "end_time": "20:00",
            "postcode": "LS1", "campaign_id": national,
        }),
    )
    .await;
    assert_eq!(
        created.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        created.body
    );

    // An organiser of Barnstorm UK links it from the event page; the host then sees it.
    let mut org = signed_in(&app, "org@example.org").await;
    let page = org.get(&path).await;
    assert!(
        page.body.contains(&format!(
            "<option value=\"{national}\">National calling (Barnstorm UK)</option>"
        )),
        "{}",
        page.body
    );
    let linked = org
        .submit(&page, &link, &[("campaign_id", &national_id)])
        .await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER);
    let event_now = app.store.event(event.id).await.unwrap().unwrap();
    assert_eq!(event_now.campaign_id, Some(national));
    let page = host.get(&path).await;
    assert!(
        page.body
            .contains("Linked to a phone bank of the organisers"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Unlink the phone bank"));

    // The host keeps the link when editing, and may unlink it by API.
    let unlinked = link_by_api(&app, event.id, &token, None).await;
    assert_eq!(unlinked.status, StatusCode::OK, "{}", unlinked.body);
    assert_eq!(unlinked.json()["campaign_id"], serde_json::Value::Null);

    // The organiser links it by API; other kinds of event link nothing.
    let org_token = app.token_for("org@example.org").await;
    let relinked = link_by_api(&app, event.id, &org_token, Some(national)).await;
    assert_eq!(relinked.status, StatusCode::OK, "{}", relinked.body);
    assert_eq!(relinked.json()["campaign_id"], national);
    let canvass = live(
        &app,
        &new_event(t.leeds.id, Some(t.host.id), EventKind::Canvass, 5),
    )
    .await;
    let answer = link_by_api(&app, canvass.id, &org_token, Some(national)).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    let outsider = app.user("sam@example.org", "Sam Stranger", false).await;
    assert!(!outsider.is_admin);
    let sam = app.token_for("sam@example.org").await;
    let answer = link_by_api(&app, event.id, &sam, None).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
}

async fn organisers_are_mailed_once_when_an_event_awaits_them(app: TestApp) {
    let t = tree(&app).await;
    app.store
        .set_group_event_approval(t.leeds.id, EventApproval::Approval, None)
        .await
        .unwrap();
    let token = app.token_for("hana@example.org").await;
    let created = create_by_api(
        &app,
        &token,
        json!({
            "group_id": t.leeds.id, "kind": "canvass", "title": "Headingley canvass",
            "date": "2035-06-09", "start_time": "10:00", "end_time": "13:00",
            "postcode": "LS6", "address": "Headingley Library",
        }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["status"], "pending");
    let mails = app.store.claim_due_mail(100, 60_000).await.unwrap();
    assert_eq!(
        mails.len(),
        1,
        "one mail, to the one organiser who runs Leeds"
    );
    let mail = &mails[0].mail;
    assert_eq!(mail.to, "org@example.org");
    assert_eq!(
        mail.subject,
        "Waiting for your approval: Headingley canvass"
    );
    assert!(
        mail.body_text
            .contains("Hana Host submitted an event for Leeds")
    );
    assert!(mail.body_text.contains("Where: Headingley Library, LS6"));
    let link = format!("/groups/{}/events/pending", t.uk.slug);
    assert!(mail.body_text.contains(&link), "{}", mail.body_text);
    assert!(
        app.store
            .claim_due_mail(100, 60_000)
            .await
            .unwrap()
            .is_empty(),
        "claimed once, by one node"
    );

    let mut org = signed_in(&app, "org@example.org").await;
    let queue = org.get(&link).await;
    assert!(queue.body.contains("Headingley canvass"));
    assert!(
        queue
            .body
            .contains("<dt>Where</dt><dd>Headingley Library, LS6</dd>"),
        "{}",
        queue.body
    );
    assert!(queue.body.contains("<dt>Group</dt><dd>Leeds</dd>"));

    // Approved, then changed by its host: it waits again, and the organiser hears once more.
    let id = created.json()["id"].as_i64().unwrap();
    approve(&mut org, &t.uk, id).await;
    let decision_mails = app.store.claim_due_mail(100, 60_000).await.unwrap();
    assert!(
        decision_mails
            .iter()
            .all(|m| !m.mail.subject.starts_with("Waiting for your approval")),
        "approving asks nobody for approval"
    );
    let mut host = signed_in(&app, "hana@example.org").await;
    let edit = format!("/events/{id}/edit");
    let form = host.get(&edit).await;
    let saved = host
        .submit(
            &form,
            &edit,
            &[
                ("kind", "canvass"),
                ("title", "Headingley canvass"),
                ("date", "2035-06-09"),
                ("start_time", "10:00"),
                ("end_time", "14:00"),
                ("time_zone", "Europe/London"),
                ("postcode", "LS6"),
                ("address", "Headingley Library"),
                ("visibility", "public"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let mails = app.store.claim_due_mail(100, 60_000).await.unwrap();
    let asked: Vec<&str> = mails
        .iter()
        .filter(|m| m.mail.subject == "Waiting for your approval: Headingley canvass")
        .map(|m| m.mail.to.as_str())
        .collect();
    assert_eq!(
        asked,
        ["org@example.org"],
        "the changed event waits again, said once"
    );
}

/// A supporter in Leeds who agreed to hear from `group` in `wording`.
async fn consenting(app: &TestApp, email: &str, group: &Group, wording: &str) {
    let s = app
        .store
        .upsert_supporter(&NewSupporter {
            email: email.into(),
            name: email.split('@').next().unwrap().into(),
            postcode: Some("LS1 1UR".into()),
            location: Some((53.4794, -2.2453)),
            phone: None,
        })
        .await
        .unwrap();
    let proof = ConsentProof::given("rsvp:1", "https://example.org/events/1", wording);
    app.store
        .grant_consent(s.id, group.id, Channel::Email, &proof)
        .await
        .unwrap();
}

async fn a_leeds_host_reaches_those_who_agreed_to_hear_from_the_national_group(app: TestApp) {
    let t = tree(&app).await;
    let today = Channel::Email.consent_wording("Barnstorm UK");
    consenting(&app, "ann@example.org", &t.uk, &today).await;
    consenting(
        &app,
        "bo@example.org",
        &t.uk,
        "Email me about other events from Barnstorm UK",
    )
    .await;
    let event = live(
        &app,
        &new_event(t.leeds.id, Some(t.host.id), EventKind::Canvass, 5),
    )
    .await;
    let mut host = signed_in(&app, "hana@example.org").await;
    let base = format!("/events/{}/outreach", event.id);
    let page = host.get(&base).await;
    let counted = host
        .submit(&page, &format!("{base}/count"), &[("radius_km", "5")])
        .await;
    assert!(
        counted
            .body
            .contains("1 supporter within 5 km has agreed to hear from Leeds by email."),
        "Ann's consent names local groups, Bo's earlier words did not: {}",
        counted.body
    );
    let sent = host
        .submit(
            &page,
            &format!("{base}/send"),
            &[
                ("subject", "Canvass on Saturday"),
                ("message", "Join us in Headingley."),
                ("radius_km", "5"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let mails = app.store.claim_due_mail(100, 60_000).await.unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].mail.to, "ann@example.org");
    let body = &mails[0].mail.body_text;
    assert!(
        body.contains("agreed to hear from Barnstorm UK")
            && body.contains("Leeds is one of the local groups of Barnstorm UK"),
        "{body}"
    );
    let link = body
        .lines()
        .find_map(|l| l.strip_prefix("Unsubscribe: "))
        .unwrap()
        .trim_start_matches("http://barnstorm.test")
        .to_owned();
    assert!(link.ends_with(&format!("?group={}", t.leeds.id)), "{link}");
    let mut ann = Browser::new(&app);
    let confirm = ann.get(&link).await;
    let left = ann.submit(&confirm, &link, &[]).await;
    assert!(
        left.body
            .contains("no more email from Leeds about events nearby, nor from Barnstorm UK"),
        "{}",
        left.body
    );
    let leeds_count = app
        .store
        .audience_count(t.leeds.id, (53.4794, -2.2453), 5.0, None)
        .await
        .unwrap();
    assert_eq!(leeds_count, 0, "leaving Leeds stops its mail");

    // Consent to the branch never reaches its parent.
    consenting(
        &app,
        "cy@example.org",
        &t.leeds,
        &Channel::Email.consent_wording("Leeds"),
    )
    .await;
    let national_count = app
        .store
        .audience_count(t.uk.id, (53.4794, -2.2453), 5.0, None)
        .await
        .unwrap();
    assert_eq!(national_count, 1, "Bo; not Cy (nor Ann, who left)");
}

async fn signed_in_people_keep_their_header_and_branches_name_who_runs_them(app: TestApp) {
    let t = tree(&app).await;
    let mut host = signed_in(&app, "hana@example.org").await;
    let missing = host.get("/events/999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Hana Host"), "{}", missing.body);
    assert!(!missing.body.contains(">Sign in</a>"), "{}", missing.body);
    let refused = host
        .get(&format!("/groups/{}/events/pending", t.uk.slug))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("Sign out"), "{}", refused.body);
    assert!(
        Browser::new(&app)
            .get("/events/999999")
            .await
            .body
            .contains(">Sign in</a>")
    );

    let branch = Browser::new(&app)
        .get(&format!("/groups/{}", t.leeds.slug))
        .await;
    assert!(
        branch.body.contains(&format!(
            "Run by the organisers of <a href=\"/groups/{}\">Barnstorm UK</a>: Olu Organiser.",
            t.uk.slug
        )),
        "{}",
        branch.body
    );
    assert!(!branch.body.contains("Nobody yet"));
    let region = Browser::new(&app)
        .get(&format!("/groups/{}", t.north.slug))
        .await;
    assert!(region.body.contains("Run by the organisers of"));
}

async fn organisers_find_new_phone_bank_and_the_embed_code(app: TestApp) {
    let t = tree(&app).await;
    let mut org = signed_in(&app, "org@example.org").await;
    let phonebank = org.get("/phonebank").await;
    assert!(
        phonebank.body.contains("New phone bank"),
        "{}",
        phonebank.body
    );
    for group in [&t.uk, &t.north, &t.leeds] {
        let new = format!("/groups/{}/campaigns/new", group.slug);
        assert!(phonebank.body.contains(&new), "{new}: {}", phonebank.body);
    }
    let mut host = signed_in(&app, "hana@example.org").await;
    assert!(!host.get("/phonebank").await.body.contains("New phone bank"));

    let page = org.get(&format!("/groups/{}", t.leeds.slug)).await;
    assert!(
        page.body.contains(&format!(
            "&#60;iframe src=&#34;http://barnstorm.test/embed/groups/{}&#34;",
            t.leeds.slug
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-copy=\"embed-snippet\""));
    let home = Browser::new(&app).get("/").await;
    assert!(
        home.body
            .contains("<h1 id=\"find-heading\">Find events near you</h1>")
    );
    assert!(home.body.contains("action=\"/events/near\""));
}

on_both! {
    tools_event_page_is_the_hosts_dashboard => the_event_page_is_the_hosts_dashboard,
    tools_campaign_links_are_checked => a_phonebank_event_links_only_campaigns_its_linker_may_see,
    tools_approval_mail_once => organisers_are_mailed_once_when_an_event_awaits_them,
    tools_consent_reaches_local_groups => a_leeds_host_reaches_those_who_agreed_to_hear_from_the_national_group,
    tools_rough_edges => signed_in_people_keep_their_header_and_branches_name_who_runs_them,
    tools_found_where_people_look => organisers_find_new_phone_bank_and_the_embed_code,
}
