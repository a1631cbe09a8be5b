//! One request of the matrix: a route's path filled from the world (fresh fixtures where the
//! request would use them up), sent as the role (API token or browser session with its CSRF
//! token) with a body that passes validation, and its answer reduced to a letter.

use super::world::World;
use crate::app::{TestApp, TestResponse};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// What one role sees of one route: A allowed, S must sign in (or make an account), D refused (403),
/// N not found (404, existence hidden or nothing of theirs), ? anything else.
pub fn letter(path: &str, response: &TestResponse) -> char {
    let status = response.status;
    let location = response.location();
    if status == StatusCode::UNAUTHORIZED
        || (status.is_redirection()
            && (location.starts_with("/login") || location.starts_with("/signup?next=")))
    {
        return 'S';
    }
    // Refusals these pages give as an ordinary answer, not as a status.
    if path == "/events/{id}/start-calling" && status.is_redirection() {
        return if location.starts_with("/call/") {
            'A'
        } else {
            'D'
        };
    }
    if path == "/call/leases/{lease_id}/heartbeat" && status == StatusCode::CONFLICT {
        return 'D';
    }
    if path == "/call/{id}/outcome" && response.body.contains("not yours to record") {
        return 'D';
    }
    if status.is_redirection() && flash(response).contains("not yours") {
        return 'D';
    }
    match status.as_u16() {
        200..=399 | 400 | 409 | 410 | 422 | 429 => 'A',
        403 => 'D',
        404 => 'N',
        _ => '?',
    }
}

/// The message a redirect carries to the next page, if any.
fn flash(response: &TestResponse) -> String {
    response
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix("barnstorm_flash="))
        .filter_map(|v| v.split(';').next()?.split_once(':'))
        .filter_map(|(_, message)| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("m={message}")).ok()
        })
        .flat_map(|pairs| pairs.into_iter().map(|(_, message)| message))
        .collect()
}

/// Sends `method path` as role `role` (an index into the world's roles); `n` makes
/// per-request names unique.
pub async fn send(
    app: &TestApp,
    world: &World,
    method: &str,
    path: &str,
    role: usize,
    n: usize,
) -> TestResponse {
    let concrete = fill(app, world, path, n).await;
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = Request::builder().method(method.clone()).uri(&concrete);
    let body = if path.starts_with("/api/") {
        if let Some(token) = &world.roles[role].token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        request = request.header("Idempotency-Key", format!("matrix-{n}"));
        if path.ends_with("/contacts") || path.ends_with("/imports/preview") {
            request = request.header(header::CONTENT_TYPE, "text/csv");
            Body::from("First Name,Mobile\nNew Contact,020 7946 0999\n")
        } else if path.ends_with("/do-not-call/upload")
            || path.starts_with("/api/v1/national-lists/")
        {
            request = request.header(header::CONTENT_TYPE, "text/csv");
            Body::from("Phone,Reason\n029 2018 0998,Checking who may upload\n")
        } else {
            match api_body(world, path, n) {
                Some(json) => {
                    request = request.header(header::CONTENT_TYPE, "application/json");
                    Body::from(json.to_string())
                }
                None => Body::empty(),
            }
        }
    } else {
        // Requests that end or change a session get a session of their own.
        let credentials = if ends_session(path) {
            world.fresh_session(app, role).await
        } else {
            world.roles[role].clone()
        };
        let mut cookies = Vec::new();
        if let Some(session) = &credentials.session {
            cookies.push(format!("barnstorm_session={session}"));
        }
        if let Some(csrf) = &credentials.csrf_cookie {
            cookies.push(format!("barnstorm_csrf={csrf}"));
        }
        request = request.header(header::COOKIE, cookies.join("; "));
        if method == Method::POST && takes_json(path) {
            request = request
                .header("X-CSRF-Token", &credentials.csrf)
                .header(header::CONTENT_TYPE, "application/json");
            Body::from(json!({"name": "Laptop key", "credential": {}}).to_string())
        } else if method == Method::POST {
            request = request
                .header("X-CSRF-Token", &credentials.csrf)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(page_form(app, world, path, n).await)
        } else {
            Body::empty()
        }
    };
    let response = app
        .router
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    // A live stream (the dashboard's events) never ends: its status is the answer.
    let streams = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let body = if streams {
        String::new()
    } else {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    TestResponse {
        status,
        headers,
        body,
    }
}

/// The passkey ceremony's pages, which take the browser's JSON.
fn takes_json(path: &str) -> bool {
    path == "/account/two-factor/passkeys" || path == "/login/two-factor/passkey"
}

fn ends_session(path: &str) -> bool {
    path == "/logout" || path.starts_with("/account")
}

/// The path with its parameters taken from the world.
async fn fill(app: &TestApp, world: &World, path: &str, n: usize) -> String {
    let mut out = String::new();
    let mut segments = path.split('/').peekable();
    let mut previous = "";
    while let Some(segment) = segments.next() {
        if !out.is_empty() || !segment.is_empty() {
            out.push('/');
        }
        let value = match segment {
            "{id}" => match previous {
                "campaigns" | "call" => world.campaign_id.to_string(),
                "events" if path.ends_with("/start-calling") => world.calling_event_id.to_string(),
                "events" => world.event_id.to_string(),
                "groups" => world.branch_id.to_string(),
                "leases" => world.caller_lease(app).await.to_string(),
                "tokens" => world.strangers_token_id(app, n).await.to_string(),
                "webhooks" => world.fresh_webhook(app).await.to_string(),
                "deliveries" => world.fresh_webhook_delivery(app).await.to_string(),
                // Another person's token, passkey or invite: nothing of the caller's.
                _ => "999999".to_owned(),
            },
            "{lease_id}" => world.caller_lease(app).await.to_string(),
            "{list}" => "ctps".to_owned(),
            "{crm}" => "van".to_owned(),
            "{action}" => "hang-up".to_owned(),
            "{slug}" => world.branch_slug.clone(),
            "{job_id}" => world.job_id.to_string(),
            "{breakout_id}" => world.breakout_id.to_string(),
            "{code}" => world.invite_code.clone(),
            "{invite_id}" => world.fresh_invite_id(app).await.to_string(),
            "{contact_id}" => world.fresh_contact(app, n).await.to_string(),
            "{user_id}" if path.contains("/callers/") => {
                let victim = world.fresh_caller(app, n).await;
                if path.ends_with("/suspension") || path.ends_with("/lift") {
                    world.suspend(app, victim).await;
                }
                victim.to_string()
            }
            "{user_id}" => world.fresh_member(app, n).await.to_string(),
            "{*path}" => "no-such-asset.css".to_owned(),
            // Capability links: the token is the authority, and an unknown one is 404.
            "{token}" => "not-a-real-token".to_owned(),
            _ if segment.starts_with('{') => "999999".to_owned(),
            _ => segment.to_owned(),
        };
        out.push_str(&value);
        previous = segment;
        if segments.peek().is_none() && out.is_empty() {
            out.push('/');
        }
    }
    if out.is_empty() { "/".to_owned() } else { out }
}

/// A JSON body that passes validation, for the API routes that take one.
fn api_body(world: &World, path: &str, n: usize) -> Option<Value> {
    let body = match path {
        "/api/v1/campaigns" => json!({"group_id": world.branch_id, "name": "Autumn canvass"}),
        "/api/v1/campaigns/{id}" => json!({"name": "Spring canvass"}),
        "/api/v1/campaigns/{id}/callers/{user_id}/suspension" => {
            json!({"reason": "Checking who may suspend"})
        }
        "/api/v1/leases/{id}/outcome" => json!({"outcome": "no_answer"}),
        "/api/v1/campaigns/{id}/result-codes/{crm}" => {
            json!({"codes": [{"outcome": "no_answer", "code": "Not Home"}]})
        }
        "/api/v1/campaigns/{id}/phone-session" => json!({"join": "dial_in"}),
        "/api/v1/invites/{code}/accept" => {
            json!({"name": "New Volunteer", "email": format!("new{n}@example.org")})
        }
        "/api/v1/campaigns/{id}/join" => json!({"code": world.invite_code}),
        "/api/v1/events" => json!({
            "group_id": world.branch_id, "kind": "canvass", "title": "Saturday canvass",
            "date": "2035-06-09", "start_time": "10:00", "end_time": "13:00",
            "postcode": "LS6", "address": "Headingley Library"}),
        "/api/v1/events/{id}/campaign" => json!({"campaign_id": null}),
        "/api/v1/events/{id}/rsvps" => {
            json!({"name": "Rae Rsvp", "email": format!("rsvp{n}@example.org")})
        }
        "/api/v1/tokens" => json!({"email": "org@example.org", "password": crate::app::PASSWORD}),
        "/api/v1/groups" => json!({"name": format!("New group {n}"), "kind": "branch"}),
        "/api/v1/groups/{id}/members/{user_id}" => json!({"role": "caller"}),
        "/api/v1/groups/{id}/invites" => {
            json!({"email": format!("invitee{n}@example.org"), "role": "member"})
        }
        "/api/v1/campaigns/{id}/invites" => json!({}),
        // Found, so access is all that decides; erasing without "confirm" changes nothing.
        "/api/v1/people/search" | "/api/v1/people/export" | "/api/v1/people/erase" => {
            json!({"email": "caller@example.org"})
        }
        "/api/v1/webhooks" => {
            json!({"url": "https://hooks.example.com/in", "event_types": ["rsvp.created"]})
        }
        "/api/v1/groups/{id}/do-not-call" => {
            json!({"phone": format!("020 7946 0{:03}", n % 1000), "reason": "Checking who may add"})
        }
        _ => return None,
    };
    Some(body)
}

/// One form for every page POST: each field a handler might ask for, with a valid value
/// (forms ignore the fields they do not read).
async fn page_form(app: &TestApp, world: &World, path: &str, n: usize) -> String {
    let lease = if path.starts_with("/call/{id}/") {
        world.caller_lease(app).await.to_string()
    } else {
        String::new()
    };
    let email = format!("form{n}@example.org");
    let key = format!("matrix-form-{n}");
    let fields: Vec<(&str, &str)> = vec![
        ("name", "Form Filler"),
        ("email", &email),
        ("password", "a wrong password for this"),
        ("current_password", crate::app::PASSWORD),
        ("new_password", "another long password here"),
        ("label", "laptop"),
        ("role", "member"),
        ("reason", "Checking who may do this"),
        ("code", &world.invite_code),
        ("outcome", "no_answer"),
        ("lease_id", &lease),
        ("idempotency_key", &key),
        ("status", "live"),
        ("decision", "approve"),
        ("title", "Saturday canvass"),
        ("kind", "canvass"),
        ("date", "2035-06-09"),
        ("start_time", "10:00"),
        ("end_time", "13:00"),
        ("postcode", "LS6"),
        ("address", "Headingley Library"),
        ("message", "Come along."),
        ("subject", "Join us"),
        ("next", "/"),
        ("attended", "yes"),
        ("template", "phonebank"),
        ("policy", "approval"),
        ("required", "off"),
        ("contact_days", "90"),
        ("rsvp_days", ""),
        ("url", "https://hooks.example.com/in"),
        ("event_types", "rsvp.created"),
    ];
    serde_urlencoded::to_string(fields).unwrap()
}
