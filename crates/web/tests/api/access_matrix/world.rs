//! The world the authorization matrix runs in: a national group and a branch with a live
//! campaign, an event from a trusted host, and one person for each role, each with a
//! browser session and an API token. Fixtures a request may destroy are made fresh.

use crate::app::{Browser, TestApp};
use crate::meetups::{live, new_event};
use crate::phonebank_api::{always_open, claim};
use axum::http::{Method, StatusCode};
use barnstorm_domain::event::EventKind;
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::events::NewEvent;
use barnstorm_store::{GroupKind, Role, hash_secret, new_secret, now_millis};
use serde_json::json;

/// The roles, in the order of the letters in the table.
pub const ROLES: [&str; 8] = [
    "anonymous",
    "unverified",
    "caller",
    "suspended",
    "host",
    "other organiser",
    "organiser",
    "admin",
];

/// How one role reaches the app.
#[derive(Clone)]
pub struct Credentials {
    pub user_id: Option<i64>,
    pub session: Option<String>,
    pub csrf: String,
    pub csrf_cookie: Option<String>,
    pub token: Option<String>,
}

pub struct World {
    pub branch_id: i64,
    pub branch_slug: String,
    pub campaign_id: i64,
    pub event_id: i64,
    pub calling_event_id: i64,
    pub job_id: i64,
    pub breakout_id: i64,
    pub invite_code: String,
    pub organiser_token: String,
    pub caller_token: String,
    pub roles: Vec<Credentials>,
}

const CONTACTS: usize = 40;

impl World {
    pub async fn build(app: &TestApp) -> World {
        let store = &app.store;
        let national = store
            .create_group(None, "Barnstorm UK", GroupKind::National, "", None)
            .await
            .unwrap();
        let branch = store
            .create_group(Some(national.id), "Leeds", GroupKind::Branch, "", None)
            .await
            .unwrap();
        let other = store
            .create_group(None, "Bristol Friends", GroupKind::Branch, "", None)
            .await
            .unwrap();
        let organiser = app.user("org@example.org", "Olive Organiser", false).await;
        let other_org = app.user("other@example.org", "Otto Other", false).await;
        let admin = app.user("admin@example.org", "Ada Admin", true).await;
        let host = app.user("host@example.org", "Hana Host", false).await;
        let caller = app.user("caller@example.org", "Cal Caller", false).await;
        let suspended = app.user("susp@example.org", "Sue Spended", false).await;
        store
            .set_membership(branch.id, organiser.id, Role::Organiser, None)
            .await
            .unwrap();
        store
            .set_membership(other.id, other_org.id, Role::Organiser, None)
            .await
            .unwrap();
        store
            .set_membership(branch.id, host.id, Role::Host, None)
            .await
            .unwrap();
        store
            .set_trusted_host(branch.id, host.id, true, Some(organiser.id))
            .await
            .unwrap();
        let organiser_token = app.token_for("org@example.org").await;

        let campaign_id = live_campaign(app, branch.id, &organiser_token).await;
        let job_id = import_contacts(app, &organiser_token, campaign_id).await;
        let invite_code = campaign_invite(app, &organiser_token, campaign_id).await;

        let caller_token = app.token_for("caller@example.org").await;
        let suspended_token = app.token_for("susp@example.org").await;
        for token in [&caller_token, &suspended_token] {
            let joined = app
                .api(
                    Method::POST,
                    &format!("/api/v1/campaigns/{campaign_id}/join"),
                    Some(token),
                    Some(json!({ "code": invite_code })),
                )
                .await;
            assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
        }

        // The unverified caller joins through the invite link and never confirms.
        let mut joiner = Browser::new(app);
        let link = format!("/call/join/{invite_code}");
        let page = joiner.get(&link).await;
        let joined = joiner
            .submit(
                &page,
                &link,
                &[("name", "Una Unverified"), ("email", "una@example.org")],
            )
            .await;
        assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.body);
        let unverified = store
            .user_by_email("una@example.org")
            .await
            .unwrap()
            .unwrap();
        assert!(!unverified.is_verified());

        let event = live(
            app,
            &NewEvent {
                title: "Leeds volunteers' meetup".into(),
                ..new_event(branch.id, Some(host.id), EventKind::Meetup, 3)
            },
        )
        .await;
        let starts_at = now_millis() - 10 * 60_000;
        let calling_event = live(
            app,
            &NewEvent {
                title: "Phone bank tonight".into(),
                campaign_id: Some(campaign_id),
                starts_at,
                ends_at: starts_at + 3 * 3_600_000,
                ..new_event(branch.id, Some(host.id), EventKind::Phonebank, 0)
            },
        )
        .await;

        let breakout = store
            .add_breakout(event.id, "Door knockers", "", None)
            .await
            .unwrap();

        let mut roles = vec![anonymous(app).await];
        for user in [
            &unverified,
            &caller,
            &suspended,
            &host,
            &other_org,
            &organiser,
            &admin,
        ] {
            roles.push(signed_in(app, user.id).await);
        }
        let world = World {
            branch_id: branch.id,
            branch_slug: branch.slug,
            campaign_id,
            event_id: event.id,
            calling_event_id: calling_event.id,
            job_id,
            breakout_id: breakout.id,
            invite_code,
            organiser_token,
            caller_token,
            roles,
        };
        world.suspend(app, suspended.id).await;
        world
    }

    /// The lease the caller holds now (claiming again returns the held one).
    pub async fn caller_lease(&self, app: &TestApp) -> i64 {
        let claimed = claim(app, &self.caller_token, self.campaign_id).await;
        assert!(claimed.status.is_success(), "{}", claimed.body);
        claimed.json()["lease_id"].as_i64().unwrap()
    }

    /// A new caller of the campaign, for requests that remove or suspend one.
    pub async fn fresh_caller(&self, app: &TestApp, n: usize) -> i64 {
        let email = format!("victim{n}@example.org");
        let victim = app.user(&email, "Vic Victim", false).await;
        app.store
            .add_campaign_caller(self.campaign_id, victim.id)
            .await
            .unwrap();
        victim.id
    }

    /// Suspends a caller of the campaign as its organiser.
    pub async fn suspend(&self, app: &TestApp, user_id: i64) {
        let suspended = app
            .api(
                Method::POST,
                &format!(
                    "/api/v1/campaigns/{}/callers/{user_id}/suspension",
                    self.campaign_id
                ),
                Some(&self.organiser_token),
                Some(json!({ "reason": "Rude to contacts" })),
            )
            .await;
        assert!(suspended.status.is_success(), "{}", suspended.body);
    }

    /// A new member of the branch, for requests that change or remove a membership.
    pub async fn fresh_member(&self, app: &TestApp, n: usize) -> i64 {
        let email = format!("member{n}@example.org");
        let member = app.user(&email, "Mem Member", false).await;
        app.store
            .set_membership(self.branch_id, member.id, Role::Member, None)
            .await
            .unwrap();
        member.id
    }

    /// A new contact on the campaign's list, for requests that erase one.
    pub async fn fresh_contact(&self, app: &TestApp, n: usize) -> i64 {
        // Drama numbers: 0113 496 0000-0999, then 0161 496 0000-0999.
        let phone = if n < 1000 {
            format!("0113 496 {n:04}")
        } else {
            format!("0161 496 {:04}", n - 1000)
        };
        let csv = format!("First Name,Mobile\nFresh Contact,{phone}\n");
        let request =
            axum::http::Request::post(format!("/api/v1/campaigns/{}/contacts", self.campaign_id))
                .header(
                    axum::http::header::AUTHORIZATION,
                    format!("Bearer {}", self.organiser_token),
                )
                .header(axum::http::header::CONTENT_TYPE, "text/csv")
                .body(axum::body::Body::from(csv))
                .unwrap();
        let imported = app.send(request).await;
        assert_eq!(imported.json()["imported"], 1, "{}", imported.body);
        let e164 = normalise_phone(&phone, Region::GB).unwrap();
        app.store
            .contact_by_phone(self.campaign_id, e164.as_str())
            .await
            .unwrap()
            .unwrap()
            .id
    }

    /// A new caller invite of the campaign, for requests that revoke one.
    pub async fn fresh_invite_id(&self, app: &TestApp) -> i64 {
        let made = app
            .api(
                Method::POST,
                &format!("/api/v1/campaigns/{}/invites", self.campaign_id),
                Some(&self.organiser_token),
                None,
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
        made.json()["id"].as_i64().unwrap()
    }

    /// A new webhook endpoint (public https, never called), for requests that read or
    /// remove one.
    pub async fn fresh_webhook(&self, app: &TestApp) -> i64 {
        let admin = self.roles[ROLES.len() - 1].user_id.unwrap();
        let new = barnstorm_store::webhooks::NewWebhookEndpoint {
            url: "https://hooks.example.com/in".to_owned(),
            description: String::new(),
            event_types: vec![barnstorm_store::webhooks::WebhookEventType::PersonErased],
        };
        let secret = barnstorm_store::webhooks::new_webhook_secret();
        app.store
            .create_webhook_endpoint(&new, &secret, admin)
            .await
            .unwrap()
            .id
    }

    /// A delivery queued to a new endpoint, for requests that send one again.
    pub async fn fresh_webhook_delivery(&self, app: &TestApp) -> i64 {
        let endpoint = self.fresh_webhook(app).await;
        let kind = barnstorm_store::webhooks::WebhookEventType::PersonErased;
        app.store
            .queue_webhook(kind, serde_json::json!({"supporter_ids": [1]}))
            .await
            .unwrap();
        app.store.webhook_deliveries(endpoint, 1).await.unwrap()[0].id
    }

    /// The id of an API token of someone else than every role.
    pub async fn strangers_token_id(&self, app: &TestApp, n: usize) -> i64 {
        let email = format!("stranger{n}@example.org");
        let stranger = app.user(&email, "Stan Stranger", false).await;
        app.store
            .create_api_token(stranger.id, &hash_secret(&new_secret()), "theirs")
            .await
            .unwrap()
    }

    /// A new browser session for the role, for requests that end sessions.
    pub async fn fresh_session(&self, app: &TestApp, role: usize) -> Credentials {
        match self.roles[role].user_id {
            Some(user_id) => signed_in(app, user_id).await,
            None => anonymous(app).await,
        }
    }
}

async fn live_campaign(app: &TestApp, group_id: i64, token: &str) -> i64 {
    let created = app
        .api(
            Method::POST,
            "/api/v1/campaigns",
            Some(token),
            Some(json!({"group_id": group_id, "name": "Spring canvass",
                "calling_hours": always_open(), "pace_per_minute": 600, "pace_per_hour": 3600})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let live = app
        .api(
            Method::PATCH,
            &format!("/api/v1/campaigns/{id}"),
            Some(token),
            Some(json!({"status": "live"})),
        )
        .await;
    assert_eq!(live.status, StatusCode::OK, "{}", live.body);
    id
}

async fn import_contacts(app: &TestApp, token: &str, campaign_id: i64) -> i64 {
    let mut csv = String::from("First Name,Mobile\n");
    for n in 0..CONTACTS {
        csv.push_str(&format!("Contact {n},020 7946 0{n:03}\n"));
    }
    let request = axum::http::Request::post(format!("/api/v1/campaigns/{campaign_id}/contacts"))
        .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
        .header(axum::http::header::CONTENT_TYPE, "text/csv")
        .body(axum::body::Body::from(csv))
        .unwrap();
    let imported = app.send(request).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    imported.json()["job_id"].as_i64().unwrap()
}

async fn campaign_invite(app: &TestApp, token: &str, campaign_id: i64) -> String {
    let made = app
        .api(
            Method::POST,
            &format!("/api/v1/campaigns/{campaign_id}/invites"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.json()["code"].as_str().unwrap().to_owned()
}

async fn anonymous(_app: &TestApp) -> Credentials {
    let csrf = new_secret();
    Credentials {
        user_id: None,
        session: None,
        csrf_cookie: Some(csrf.clone()),
        csrf,
        token: None,
    }
}

async fn signed_in(app: &TestApp, user_id: i64) -> Credentials {
    let session = new_secret();
    let csrf = new_secret();
    app.store
        .create_session(
            &hash_secret(&session),
            user_id,
            &csrf,
            now_millis() + 3_600_000,
            "password",
        )
        .await
        .unwrap();
    let token = new_secret();
    app.store
        .create_api_token(user_id, &hash_secret(&token), "matrix")
        .await
        .unwrap();
    Credentials {
        user_id: Some(user_id),
        session: Some(session),
        csrf,
        csrf_cookie: None,
        token: Some(token),
    }
}
