//! Campaign meetups: breakout groups, sessions planned from templates in a few clicks, and
//! the plan the meetup page shows.

use crate::app::{Browser, TestApp};
use crate::on_both;
use axum::http::StatusCode;
use barnstorm_domain::event::{Channel, EventApproval, EventKind, EventStatus, LocationPrecision};
use barnstorm_store::events::{Event, NewEvent, NewRsvp, NewSupporter};
use barnstorm_store::phonebank::{CampaignSettings, CampaignStatus};
use barnstorm_store::{Group, GroupKind, NewMail, Role, User, now_millis};
use chrono::{Datelike, NaiveDate, TimeZone, Timelike, Weekday};
use chrono_tz::Europe::London;

const DAY_MS: i64 = 24 * 3_600_000;

pub struct Meetup {
    pub region: Group,
    pub organiser: User,
    pub event: Event,
}

/// A new event of `kind` in `group` at the centre of M1, `days` from now, 18:30 for 2½ h.
pub fn new_event(group_id: i64, host: Option<i64>, kind: EventKind, days: i64) -> NewEvent {
    let starts_at = now_millis() + days * DAY_MS;
    NewEvent {
        host_user_id: host,
        description: "Come along.".into(),
        postcode: Some("M1".into()),
        address: "Friends Meeting House, Mount Street".into(),
        location: Some((53.4794, -2.2453)),
        precision: LocationPrecision::Outcode,
        ..NewEvent::new(
            group_id,
            kind,
            &format!("{} in Manchester", kind.label()),
            starts_at,
            starts_at + 150 * 60_000,
        )
    }
}

/// Creates `event` live.
pub async fn live(app: &TestApp, event: &NewEvent) -> Event {
    app.store
        .create_event(event, EventStatus::Live)
        .await
        .unwrap()
}

/// A national group with a North West region, its organiser, and a live meetup there.
async fn meetup(app: &TestApp) -> Meetup {
    let organiser = app.user("org@example.org", "Niamh Organiser", false).await;
    let uk = app
        .store
        .create_group(None, "Barnstorm UK", GroupKind::National, "", None)
        .await
        .unwrap();
    let region = app
        .store
        .create_group(Some(uk.id), "North West", GroupKind::Region, "", None)
        .await
        .unwrap();
    app.store
        .set_membership(region.id, organiser.id, Role::Organiser, None)
        .await
        .unwrap();
    let event = live(
        app,
        &NewEvent {
            title: "North West kick-off".into(),
            ..new_event(region.id, Some(organiser.id), EventKind::Meetup, 3)
        },
    )
    .await;
    Meetup {
        region,
        organiser,
        event,
    }
}

/// A live call campaign of `group_id`.
pub async fn live_campaign(app: &TestApp, group_id: i64, name: &str) -> i64 {
    let campaign = app
        .store
        .create_campaign(group_id, &CampaignSettings::new(name), None)
        .await
        .unwrap();
    app.store
        .set_campaign_status(campaign.id, CampaignStatus::Live, None)
        .await
        .unwrap();
    campaign.id
}

/// The first Tuesday after `millis`'s day in London.
fn next_tuesday_after(millis: i64) -> NaiveDate {
    let from = London.timestamp_millis_opt(millis).unwrap().date_naive();
    let mut day = from.succ_opt().unwrap();
    while day.weekday() != Weekday::Tue {
        day = day.succ_opt().unwrap();
    }
    day
}

async fn a_breakout_plans_three_phonebanks_in_a_few_clicks(app: TestApp) {
    let m = meetup(&app).await;
    let draft_campaign = app
        .store
        .create_campaign(m.region.id, &CampaignSettings::new("Still a draft"), None)
        .await
        .unwrap();
    let live = live_campaign(&app, m.region.id, "Get out the vote").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("org@example.org").await;
    let path = format!("/events/{}/meetup", m.event.id);

    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Nothing planned yet, 0 sign-ups"),
        "{}",
        page.body
    );
    let added = browser
        .submit(
            &page,
            &format!("{path}/breakouts"),
            &[
                ("name", "Manchester callers"),
                ("facilitator", "Cal Caller"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let breakout = app.store.breakouts(m.event.id).await.unwrap().remove(0);
    assert_eq!(breakout.name, "Manchester callers");
    assert_eq!(breakout.facilitator, "Cal Caller");
    assert!(
        added
            .location()
            .ends_with(&format!("#breakout-{}", breakout.id))
    );

    let page = browser.get(&path).await;
    assert!(page.body.contains("Manchester callers"));
    assert!(page.body.contains("Facilitator: Cal Caller"));
    // The live campaign is chosen for the phonebank template; the draft is offered too.
    assert!(
        page.body.contains(&format!(
            "<option value=\"{live}\" selected>Get out the vote</option>"
        )),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("value=\"{}\"", draft_campaign.id))
    );

    let plan = format!("{path}/breakouts/{}/sessions", breakout.id);
    let live_id = live.to_string();
    let tuesday = next_tuesday_after(m.event.starts_at);
    let in_two_weeks = (tuesday + chrono::Duration::days(14))
        .format("%Y-%m-%d")
        .to_string();
    for (date, start) in [("", ""), ("", "19:00"), (in_two_weeks.as_str(), "")] {
        let response = browser
            .submit(
                &page,
                &plan,
                &[
                    ("template", "phonebank"),
                    ("campaign_id", live_id.as_str()),
                    ("date", date),
                    ("start_time", start),
                    ("postcode", ""),
                ],
            )
            .await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
        let page = browser.get(&path).await;
        assert!(page.body.contains("Phonebank planned"), "{}", page.body);
    }

    let planned = app.store.meetup_plan(m.event.id).await.unwrap();
    assert_eq!(planned.sessions.len(), 3);
    assert_eq!(planned.sessions_by_kind, vec![(EventKind::Phonebank, 3)]);
    let mut starts = Vec::new();
    for s in &planned.sessions {
        let event = app.store.event(s.event.id).await.unwrap().unwrap();
        assert_eq!(event.kind, EventKind::Phonebank);
        assert_eq!(
            event.status,
            EventStatus::Live,
            "the organiser's sessions go live"
        );
        assert_eq!(event.parent_event_id, Some(m.event.id));
        assert_eq!(event.breakout_id, Some(breakout.id));
        assert_eq!(event.campaign_id, Some(live));
        assert_eq!(event.group_id, m.region.id);
        assert_eq!(event.host_user_id, Some(m.organiser.id));
        assert_eq!(event.postcode.as_deref(), Some("M1"), "the meetup's place");
        assert_eq!(event.address, m.event.address);
        assert!(event.location.is_some());
        let start = London.timestamp_millis_opt(event.starts_at).unwrap();
        let end = London.timestamp_millis_opt(event.ends_at).unwrap();
        assert_eq!(event.ends_at - event.starts_at, 2 * 3_600_000, "two hours");
        starts.push((start.date_naive(), start.hour(), start.minute(), end.hour()));
    }
    starts.sort();
    assert_eq!(
        starts,
        vec![
            (tuesday, 18, 30, 20),
            (tuesday, 19, 0, 21),
            (tuesday + chrono::Duration::days(14), 18, 30, 20),
        ],
        "the Tuesday after the meetup, 18:30–20:30 in London, unless a date or time is given"
    );

    // Someone signs up for one session: the plan counts them.
    let session = planned.sessions[0].event.id;
    app.store
        .create_rsvp(
            &NewRsvp {
                event_id: session,
                shift_id: None,
                supporter: NewSupporter {
                    email: "sam@example.org".into(),
                    name: "Sam".into(),
                    postcode: None,
                    location: None,
                    phone: None,
                },
                consents: vec![Channel::Email],
                form_url: "https://example.org/events/1".into(),
                manage_token: "a-token-for-sam-that-is-long-enough-0000".into(),
            },
            &|rsvp| NewMail {
                to: rsvp.email.clone(),
                subject: "You're going".into(),
                body_text: "See you there".into(),
                headers: Default::default(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let page = browser.get(&path).await;
    assert!(
        page.body
            .contains("3 phonebanking sessions planned, 1 sign-up"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&format!("/events/{session}/edit")),
        "each session can be edited in full"
    );

    // A canvass elsewhere, on a chosen day.
    let response = browser
        .submit(
            &page,
            &plan,
            &[
                ("template", "canvass"),
                ("campaign_id", live_id.as_str()),
                ("date", in_two_weeks.as_str()),
                ("start_time", "10:00"),
                ("postcode", "L1"),
            ],
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let planned = app.store.meetup_plan(m.event.id).await.unwrap();
    let canvass = planned
        .sessions
        .iter()
        .find(|s| s.event.kind == EventKind::Canvass)
        .unwrap();
    let canvass = app.store.event(canvass.event.id).await.unwrap().unwrap();
    assert_eq!(canvass.postcode.as_deref(), Some("L1"));
    assert_eq!(
        canvass.address, "",
        "another place: the meetup's address is not copied"
    );
    assert_eq!(canvass.campaign_id, None, "only phonebanks call a campaign");
    assert_eq!(canvass.ends_at - canvass.starts_at, 3 * 3_600_000);
    let page = browser.get(&path).await;
    assert!(
        page.body
            .contains("3 phonebanking sessions and 1 canvass planned, 1 sign-up"),
        "{}",
        page.body
    );
}

async fn planning_mistakes_come_back_as_messages(app: TestApp) {
    let m = meetup(&app).await;
    let breakout = app
        .store
        .add_breakout(m.event.id, "Liverpool", "", None)
        .await
        .unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in("org@example.org").await;
    let path = format!("/events/{}/meetup", m.event.id);
    let page = browser.get(&path).await;
    let plan = format!("{path}/breakouts/{}/sessions", breakout.id);
    for (fields, expected) in [
        (vec![("template", "barbecue")], "Template: choose"),
        (
            vec![("template", "phonebank"), ("date", "2020-01-07")],
            "that day has passed",
        ),
        (
            vec![("template", "phonebank"), ("date", "next week")],
            "is not a date",
        ),
        (
            vec![("template", "phonebank"), ("start_time", "half six")],
            "is not a time",
        ),
        (
            vec![("template", "phonebank"), ("postcode", "ZZ99 9ZZ")],
            "Different postcode:",
        ),
        (
            vec![("template", "phonebank"), ("campaign_id", "999999")],
            "Phone bank to call with:",
        ),
    ] {
        let response = browser.submit(&page, &plan, &fields).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{fields:?}");
        let shown = browser.get(&path).await;
        assert!(
            shown.body.contains(expected),
            "{fields:?} should say {expected:?}: {}",
            shown.body
        );
    }
    assert!(
        app.store
            .meetup_plan(m.event.id)
            .await
            .unwrap()
            .sessions
            .is_empty()
    );
    let empty = browser
        .submit(&page, &format!("{path}/breakouts"), &[("name", "  ")])
        .await;
    assert_eq!(empty.status, StatusCode::SEE_OTHER);
    assert!(
        browser
            .get(&path)
            .await
            .body
            .contains("Breakout group name: give")
    );

    // A breakout of another meetup cannot be used here.
    let other = live(
        &app,
        &new_event(m.region.id, Some(m.organiser.id), EventKind::Meetup, 5),
    )
    .await;
    let foreign = app
        .store
        .add_breakout(other.id, "Elsewhere", "", None)
        .await
        .unwrap();
    let response = browser
        .submit(
            &page,
            &format!("{path}/breakouts/{}/sessions", foreign.id),
            &[("template", "phonebank")],
        )
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert!(
        app.store
            .meetup_plan(other.id)
            .await
            .unwrap()
            .sessions
            .is_empty()
    );
}

async fn only_those_who_run_the_meetup_plan_from_it(app: TestApp) {
    let m = meetup(&app).await;
    let breakout = app
        .store
        .add_breakout(m.event.id, "Bolton", "", None)
        .await
        .unwrap();
    // A caller of the region, and the host of another event in it.
    let caller = app.user("caller@example.org", "Cal Caller", false).await;
    app.store
        .set_membership(m.region.id, caller.id, Role::Caller, None)
        .await
        .unwrap();
    let other_host = app.user("host@example.org", "Harun Host", false).await;
    live(
        &app,
        &new_event(m.region.id, Some(other_host.id), EventKind::Social, 4),
    )
    .await;
    let path = format!("/events/{}/meetup", m.event.id);
    let plan = format!("{path}/breakouts/{}/sessions", breakout.id);
    for email in ["caller@example.org", "host@example.org"] {
        let mut browser = Browser::new(&app);
        browser.sign_in(email).await;
        let page = browser.get(&path).await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "the plan of a public meetup is public"
        );
        assert!(
            !page.body.contains("Plan a session"),
            "{email} sees no planning form"
        );
        assert!(!page.body.contains("Add a breakout group"));
        let planned = browser
            .submit(&page, &plan, &[("template", "phonebank")])
            .await;
        assert_eq!(planned.status, StatusCode::FORBIDDEN, "{email}");
        let added = browser
            .submit(&page, &format!("{path}/breakouts"), &[("name", "Mine")])
            .await;
        assert_eq!(added.status, StatusCode::FORBIDDEN, "{email}");
    }
    assert!(
        app.store
            .meetup_plan(m.event.id)
            .await
            .unwrap()
            .sessions
            .is_empty()
    );
    assert_eq!(app.store.breakouts(m.event.id).await.unwrap().len(), 1);

    // Signed out: the plan can be read but not changed.
    let mut anonymous = Browser::new(&app);
    let page = anonymous.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Plan a session"));
    let login = anonymous.get("/login").await;
    let response = anonymous
        .submit(&login, &plan, &[("template", "phonebank")])
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert!(response.location().starts_with("/login"));

    // Only meetups have a plan.
    let social = live(
        &app,
        &new_event(m.region.id, Some(m.organiser.id), EventKind::Social, 2),
    )
    .await;
    let mut organiser = Browser::new(&app);
    organiser.sign_in("org@example.org").await;
    let response = organiser
        .get(&format!("/events/{}/meetup", social.id))
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
}

async fn a_member_hosting_a_meetup_plans_sessions_for_approval(app: TestApp) {
    let m = meetup(&app).await;
    app.store
        .set_group_event_approval(m.region.id, EventApproval::Approval, Some(m.organiser.id))
        .await
        .unwrap();
    let member = app.user("member@example.org", "Mo Member", false).await;
    app.store
        .set_membership(m.region.id, member.id, Role::Member, None)
        .await
        .unwrap();
    let meetup = live(
        &app,
        &new_event(m.region.id, Some(member.id), EventKind::Meetup, 6),
    )
    .await;
    let breakout = app
        .store
        .add_breakout(meetup.id, "Wigan", "Mo", None)
        .await
        .unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in("member@example.org").await;
    let path = format!("/events/{}/meetup", meetup.id);
    let page = browser.get(&path).await;
    assert!(
        page.body.contains("Plan a session"),
        "the meetup's host plans from it"
    );
    let response = browser
        .submit(
            &page,
            &format!("{path}/breakouts/{}/sessions", breakout.id),
            &[("template", "street_stall")],
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let plan = app.store.meetup_plan(meetup.id).await.unwrap();
    assert_eq!(plan.sessions.len(), 1);
    assert_eq!(
        plan.sessions[0].event.status,
        EventStatus::Pending,
        "a member's session waits for the organisers"
    );
    let page = browser.get(&path).await;
    assert!(page.body.contains("awaiting approval"), "{}", page.body);
    assert!(page.body.contains("1 street stall planned, 0 sign-ups"));
    // Passers-by do not see sessions waiting for approval.
    let outsider = Browser::new(&app).get(&path).await;
    assert!(
        outsider.body.contains("Nothing planned yet"),
        "{}",
        outsider.body
    );
}

/// A meetup a fortnight away, at a venue with step-free access, with one breakout group.
async fn distant_meetup(app: &TestApp) -> (Meetup, i64) {
    let m = meetup(app).await;
    let starts_at = now_millis() + 15 * DAY_MS;
    let mut later = new_event(m.region.id, Some(m.organiser.id), EventKind::Meetup, 15);
    later.title = "North West winter meetup".into();
    later.accessibility = "Step-free entrance on Mount Street".into();
    later.starts_at = starts_at;
    later.ends_at = starts_at + 2 * 3_600_000;
    let event = live(app, &later).await;
    let breakout = app
        .store
        .add_breakout(event.id, "Callers", "", None)
        .await
        .unwrap();
    (Meetup { event, ..m }, breakout.id)
}

async fn sessions_follow_the_meetup_and_link_back(app: TestApp) {
    let (m, breakout) = distant_meetup(&app).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("org@example.org").await;
    let path = format!("/events/{}/meetup", m.event.id);
    let page = browser.get(&path).await;
    let plan = format!("{path}/breakouts/{breakout}/sessions");
    for postcode in ["", "L1"] {
        let response = browser
            .submit(
                &page,
                &plan,
                &[
                    ("template", "phonebank"),
                    ("campaign_id", ""),
                    ("date", ""),
                    ("start_time", ""),
                    ("postcode", postcode),
                ],
            )
            .await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    }
    let planned = app.store.meetup_plan(m.event.id).await.unwrap();
    assert_eq!(planned.sessions.len(), 2);
    for s in &planned.sessions {
        let event = app.store.event(s.event.id).await.unwrap().unwrap();
        assert!(
            event.starts_at > m.event.starts_at,
            "a session planned at the meetup defaults to a day after it"
        );
        assert_eq!(
            London
                .timestamp_millis_opt(event.starts_at)
                .unwrap()
                .date_naive(),
            next_tuesday_after(m.event.starts_at)
        );
        if event.postcode.as_deref() == Some("L1") {
            assert_eq!(
                event.accessibility, "",
                "another place: the venue's accessibility notes do not apply"
            );
        } else {
            assert_eq!(event.accessibility, "Step-free entrance on Mount Street");
        }
        let shown = Browser::new(&app)
            .get(&format!("/events/{}", event.id))
            .await;
        assert!(
            shown.body.contains(&format!(
                "<a href=\"/events/{}\">North West winter meetup</a>",
                m.event.id
            )),
            "the session's page links back to its meetup: {}",
            shown.body
        );
        assert!(
            !shown.body.contains("<a rel="),
            "no link without a target: {}",
            shown.body
        );
    }
}

on_both! {
    meetup_sessions_follow_the_meetup => sessions_follow_the_meetup_and_link_back,
    meetup_breakout_plans_three_phonebanks => a_breakout_plans_three_phonebanks_in_a_few_clicks,
    meetup_planning_mistakes => planning_mistakes_come_back_as_messages,
    meetup_planning_access => only_those_who_run_the_meetup_plan_from_it,
    meetup_member_sessions_wait_for_approval => a_member_hosting_a_meetup_plans_sessions_for_approval,
}
