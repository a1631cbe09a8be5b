//! The authorization matrix: every route of the router and of the API document, asked by
//! every role, against the answer expected in one table. A route without a row (or a row
//! naming no route) fails `every_route_has_a_row`; docs/security.md says how to add one.

mod requests;
mod routes;
mod world;

use crate::app::TestApp;
use crate::on_both;
use std::collections::BTreeSet;
use world::{ROLES, World};

/// Route → one letter per role, in the order of [`ROLES`]: anonymous, unverified caller,
/// caller, suspended caller, host, organiser of another group, organiser, admin.
/// A allowed (the thing, or a validation answer after access passed), S must sign in
/// (401, or a redirect to /login), D refused (403, or a refusal the page words: see `requests::letter`), N not found (404: existence hidden, or
/// nothing of this person's). Rows run in this order; those that change the world for
/// everyone (cancel, decide, settings) come last.
#[rustfmt::skip]
const TABLE: &[(&str, &str, &str)] = &[
    ("GET", "/", "AAAAAAAA"),
    // Administrators (and data-protection officers, tested in privacy.rs) publish the notice.
    ("GET", "/admin/privacy", "SDDDDDDA"),
    ("POST", "/admin/privacy", "SDDDDDDA"),
    // Webhooks are the instance's: admins only.
    ("GET", "/admin/webhooks", "SDDDDDDA"),
    ("POST", "/admin/webhooks", "SDDDDDDA"),
    ("GET", "/admin/webhooks/{id}", "SDDDDDDA"),
    ("POST", "/admin/webhooks/{id}/delete", "SDDDDDDA"),
    ("POST", "/admin/webhooks/deliveries/{id}/resend", "SDDDDDDA"),
    ("GET", "/api/v1/webhooks", "SDDDDDDA"),
    ("POST", "/api/v1/webhooks", "SDDDDDDA"),
    ("GET", "/api/v1/webhooks/{id}", "SDDDDDDA"),
    ("DELETE", "/api/v1/webhooks/{id}", "SDDDDDDA"),
    ("GET", "/api/v1/webhooks/{id}/deliveries", "SDDDDDDA"),
    ("POST", "/api/v1/webhooks/deliveries/{id}/resend", "SDDDDDDA"),
    // Retention across the whole instance: admins only.
    ("GET", "/admin/retention", "SDDDDDDA"),
    ("GET", "/account", "SAAAAAAA"),
    ("POST", "/account/confirm", "SAAAAAAA"),
    ("POST", "/account/tokens", "SAAAAAAA"),
    // Someone else's token: not found for everyone, so nobody revokes another's.
    ("POST", "/account/tokens/{id}/revoke", "SNNNNNNN"),
    ("GET", "/account/two-factor", "SAAAAAAA"),
    ("POST", "/account/two-factor/app", "SAAAAAAA"),
    ("POST", "/account/two-factor/app/confirm", "SAAAAAAA"),
    ("POST", "/account/two-factor/passkeys", "SAAAAAAA"),
    ("POST", "/account/two-factor/passkeys/options", "SAAAAAAA"),
    // Own passkeys only: another's is "not yours" (the store matches the id with the user's).
    ("POST", "/account/two-factor/passkeys/{id}/remove", "SDDDDDDD"),
    ("POST", "/account/two-factor/passkeys/{id}/rename", "SDDDDDDD"),
    ("POST", "/account/two-factor/recovery-codes", "SAAAAAAA"),
    // People's data (find, export, erase anyone): admins and the data-protection role only;
    // the matrix's people hold no data-protection role, tests/api/people_admin.rs covers it.
    ("GET", "/admin/people", "SDDDDDDA"),
    ("POST", "/admin/people", "SDDDDDDA"),
    ("POST", "/admin/people/erase", "SDDDDDDA"),
    ("POST", "/admin/people/erase/confirm", "SDDDDDDA"),
    ("POST", "/admin/people/export", "SDDDDDDA"),
    ("POST", "/api/v1/people/erase", "SDDDDDDA"),
    ("POST", "/api/v1/people/export", "SDDDDDDA"),
    ("POST", "/api/v1/people/search", "SDDDDDDA"),
    // Organisers (entries about the groups they organise, so one of another group reads
    // theirs), data-protection officers and admins (every entry).
    ("GET", "/admin/audit", "SDDDDDDA"),
    ("GET", "/admin/audit.csv", "SDDDDDDA"),
    ("GET", "/api/v1/audit", "SDDDDAAA"),
    ("GET", "/api/v1/audit.csv", "SDDDDAAA"),
    // Organisers of the group named in the body, and admins.
    ("POST", "/api/v1/campaigns", "SDDDDDAA"),
    // Callers (invited, or by their role in the group: hosts are callers too) read the campaign they call for.
    ("GET", "/api/v1/campaigns/{id}", "SAAAADAA"),
    // Callers (invited, or by their role in the group: hosts are callers too) read the campaign they call for.
    ("PATCH", "/api/v1/campaigns/{id}", "SDDDDDAA"),
    ("GET", "/api/v1/campaigns/{id}/attempts.csv", "SDDDDDAA"),
    ("GET", "/api/v1/campaigns/{id}/callers", "SDDDDDAA"),
    ("DELETE", "/api/v1/campaigns/{id}/callers/{user_id}", "SDDDDDAA"),
    ("DELETE", "/api/v1/campaigns/{id}/callers/{user_id}/suspension", "SDDDDDAA"),
    ("POST", "/api/v1/campaigns/{id}/callers/{user_id}/suspension", "SDDDDDAA"),
    // Whoever may call: invited callers (an unverified invitee calls at once, the invite link is
    // the authority), members with a caller role or above, organisers, admins. Not the suspended.
    ("POST", "/api/v1/campaigns/{id}/claims", "SAADADAA"),
    // A phone session: callers of the campaign (refused as not bridged here); the line,
    // "call" and "hang up" are one's own, so there is nothing to find for anyone else.
    ("POST", "/api/v1/campaigns/{id}/phone-session", "SAAAADAA"),
    ("GET", "/api/v1/campaigns/{id}/phone-session", "SNNNNNNN"),
    ("DELETE", "/api/v1/campaigns/{id}/phone-session", "SNNNNNNN"),
    ("POST", "/api/v1/campaigns/{id}/phone-session/call", "SNNNNNNN"),
    ("POST", "/api/v1/campaigns/{id}/phone-session/hang-up", "SNNNNNNN"),
    ("POST", "/api/v1/campaigns/{id}/contacts", "SDDDDDAA"),
    // A preview of a list before uploading it stores nothing, but shows the organiser's file.
    ("POST", "/api/v1/campaigns/{id}/imports/preview", "SDDDDDAA"),
    // Erasing one contact of the list: its organisers and admins.
    ("DELETE", "/api/v1/campaigns/{id}/contacts/{contact_id}", "SDDDDDAA"),
    ("GET", "/api/v1/campaigns/{id}/invites", "SDDDDDAA"),
    ("POST", "/api/v1/campaigns/{id}/invites", "SDDDDDAA"),
    ("POST", "/api/v1/campaigns/{id}/invites/{invite_id}/revoke", "SDDDDDAA"),
    ("GET", "/api/v1/campaigns/{id}/results.csv", "SDDDDDAA"),
    ("GET", "/api/v1/campaigns/{id}/result-codes/{crm}", "SDDDDDAA"),
    ("PUT", "/api/v1/campaigns/{id}/result-codes/{crm}", "SDDDDDAA"),
    ("GET", "/api/v1/campaigns/{id}/stats", "SDDDDDAA"),
    // Any verified account may propose an event to a group; it waits for approval unless the
    // host is trusted (docs/security.md, "Events and outreach").
    ("GET", "/api/v1/events", "AAAAAAAA"),
    // Any verified account may propose an event to a group; it waits for approval unless the
    // host is trusted (docs/security.md, "Events and outreach").
    ("POST", "/api/v1/events", "SDAAAAAA"),
    ("GET", "/api/v1/events/{id}", "AAAAAAAA"),
    // Public: signing up for an event needs no account.
    ("POST", "/api/v1/events/{id}/rsvps", "AAAAAAAA"),
    ("GET", "/api/v1/groups", "AAAAAAAA"),
    ("POST", "/api/v1/groups", "SDDDDDDA"),
    ("GET", "/api/v1/groups/{id}", "AAAAAAAA"),
    ("GET", "/api/v1/groups/{id}/campaigns", "SDDDADAA"),
    ("POST", "/api/v1/groups/{id}/do-not-call", "SDDDDDAA"),
    ("POST", "/api/v1/groups/{id}/do-not-call/upload", "SDDDDDAA"),
    ("DELETE", "/api/v1/groups/{id}/do-not-call/{phone}", "SDDDDDAA"),
    ("POST", "/api/v1/groups/{id}/invites", "SDDDDDAA"),
    ("GET", "/api/v1/groups/{id}/members", "SDDDDDAA"),
    ("GET", "/api/v1/groups/{id}/retention/preview", "SDDDDDAA"),
    ("PATCH", "/api/v1/groups/{id}/members/{user_id}", "SDDDDDAA"),
    ("GET", "/api/v1/groups/{id}/suppressions", "SDDDDDAA"),
    ("GET", "/api/v1/imports/{job_id}", "SDDDDDAA"),
    ("GET", "/api/v1/imports/{job_id}/rejections.csv", "SDDDDDAA"),
    ("GET", "/api/v1/imports/{job_id}/warnings.csv", "SDDDDDAA"),
    // A lease held by the caller: only its holder may touch it, organisers and admins included.
    ("POST", "/api/v1/leases/{id}/heartbeat", "SDADDDDD"),
    ("POST", "/api/v1/leases/{id}/outcome", "SDADDDDD"),
    ("POST", "/api/v1/leases/{id}/release", "SDADDDDD"),
    // Changing the last call: only its caller, and only on their own lease.
    ("PUT", "/api/v1/leases/{id}/outcome", "SDADDDDD"),
    ("GET", "/api/v1/me", "SAAAAAAA"),
    ("GET", "/api/v1/openapi.json", "AAAAAAAA"),
    // Retention across the whole instance: admins only.
    ("GET", "/api/v1/retention/preview", "SDDDDDDA"),
    // The national TPS and CTPS lists screen every group's calls: site admins load them.
    ("POST", "/api/v1/national-lists/{list}", "SDDDDDDA"),
    // Public: signing in for a token (with the organiser's password here, so every role gets one).
    ("POST", "/api/v1/tokens", "AAAAAAAA"),
    // Public files; an unknown one is not found.
    ("GET", "/assets/{*path}", "NNNNNNNN"),
    // The operator's PMTiles archive, public like the map; this test server has none.
    ("GET", "/basemap.pmtiles", "NNNNNNNN"),
    // Someone else's lease: 409 "not yours" is the refusal the page's script understands.
    ("POST", "/call/leases/{lease_id}/heartbeat", "SDADDDDD"),
    // The calling page hands out a contact, so it follows the claim rule.
    ("GET", "/call/{id}", "SAADADAA"),
    // A break releases only the breaker's own lease; the suspended may take one.
    ("POST", "/call/{id}/break", "SAAAADAA"),
    // Ending one's own break, like taking it.
    ("POST", "/call/{id}/resume", "SAAAADAA"),
    // One's own latest call, to change within a minute; others' leases are "not yours".
    ("GET", "/call/{id}/last", "SAAAADAA"),
    ("POST", "/call/{id}/last", "SDADDDDD"),
    // With the caller's lease: others are told "not yours to record" and nothing is saved.
    ("POST", "/call/{id}/outcome", "SDADDDDD"),
    // The caller's own phone line, on a campaign they may call.
    ("GET", "/call/{id}/line", "SAAAADAA"),
    ("POST", "/call/{id}/line", "SAAAADAA"),
    ("POST", "/call/{id}/line/{action}", "SAAAADAA"),
    ("GET", "/campaigns/{id}", "SDDDDDAA"),
    // The campaign editor; an empty form is shown again with its mistakes, nothing saved.
    ("GET", "/campaigns/{id}/edit", "SDDDDDAA"),
    ("POST", "/campaigns/{id}/edit", "SDDDDDAA"),
    ("GET", "/campaigns/{id}/attempts.csv", "SDDDDDAA"),
    ("POST", "/campaigns/{id}/contacts/find", "SDDDDDAA"),
    ("POST", "/campaigns/{id}/contacts/{contact_id}/erase", "SDDDDDAA"),
    ("POST", "/campaigns/{id}/callers/{user_id}/lift", "SDDDDDAA"),
    ("POST", "/campaigns/{id}/callers/{user_id}/remove", "SDDDDDAA"),
    ("POST", "/campaigns/{id}/callers/{user_id}/suspend", "SDDDDDAA"),
    ("GET", "/campaigns/{id}/dashboard", "SDDDDDAA"),
    ("GET", "/campaigns/{id}/dashboard/stats", "SDDDDDAA"),
    ("GET", "/campaigns/{id}/events", "SDDDDDAA"),
    ("POST", "/campaigns/{id}/imports", "SDDDDDAA"),
    ("POST", "/campaigns/{id}/imports/preview", "SDDDDDAA"),
    ("GET", "/campaigns/{id}/imports/{job_id}", "SDDDDDAA"),
    ("GET", "/campaigns/{id}/imports/{job_id}/rejections.csv", "SDDDDDAA"),
    ("GET", "/campaigns/{id}/imports/{job_id}/warnings.csv", "SDDDDDAA"),
    ("POST", "/campaigns/{id}/invites", "SDDDDDAA"),
    ("POST", "/campaigns/{id}/invites/{invite_id}/revoke", "SDDDDDAA"),
    ("GET", "/campaigns/{id}/results.csv", "SDDDDDAA"),
    ("GET", "/embed/groups/{slug}", "AAAAAAAA"),
    ("GET", "/events", "AAAAAAAA"),
    ("GET", "/events.rss", "AAAAAAAA"),
    ("GET", "/events/map.json", "AAAAAAAA"),
    ("GET", "/events/near", "AAAAAAAA"),
    ("GET", "/events/new", "SDAAAAAA"),
    ("GET", "/events/search.ics", "AAAAAAAA"),
    ("GET", "/events/search.json", "AAAAAAAA"),
    ("GET", "/events/{id}", "AAAAAAAA"),
    ("GET", "/events/{id}/attendees", "SDDDADAA"),
    ("GET", "/events/{id}/attendees.csv", "SDDDADAA"),
    // No such sign-up on this event: not found once access passed, refused before.
    ("POST", "/events/{id}/attendees/{rsvp_id}/attended", "SDDDNDNN"),
    ("GET", "/events/{id}/calendar.ics", "AAAAAAAA"),
    ("GET", "/events/{id}/edit", "SDDDADAA"),
    // Linking a call campaign: who runs the event (the world's is a meetup, so those who
    // may are told only phonebank events link one).
    ("POST", "/events/{id}/campaign", "SDDDADAA"),
    ("PUT", "/api/v1/events/{id}/campaign", "SDDDADAA"),
    // The world's event is a meetup: its plan is public like the event.
    ("GET", "/events/{id}/meetup", "AAAAAAAA"),
    ("POST", "/events/{id}/meetup/breakouts", "SDDDADAA"),
    ("POST", "/events/{id}/meetup/breakouts/{breakout_id}/sessions", "SDDDADAA"),
    ("GET", "/events/{id}/outreach", "SDDDADAA"),
    ("POST", "/events/{id}/outreach/confirm", "SDDDADAA"),
    ("POST", "/events/{id}/outreach/count", "SDDDADAA"),
    ("POST", "/events/{id}/outreach/send", "SDDDADAA"),
    ("POST", "/events/{id}/rsvp", "AAAAAAAA"),
    ("GET", "/groups", "AAAAAAAA"),
    ("GET", "/groups/{slug}", "AAAAAAAA"),
    // The group's organisers (and admins); the whole log for admins and data-protection officers.
    ("GET", "/groups/{slug}/audit", "SDDDDDAA"),
    ("GET", "/groups/{slug}/audit.csv", "SDDDDDAA"),
    ("GET", "/privacy", "AAAAAAAA"),
    ("GET", "/groups/{slug}/calendar", "AAAAAAAA"),
    ("GET", "/groups/{slug}/campaigns", "SDDDDDAA"),
    ("GET", "/groups/{slug}/campaigns/new", "SDDDDDAA"),
    ("POST", "/groups/{slug}/children", "SDDDDDAA"),
    ("GET", "/groups/{slug}/events.ics", "AAAAAAAA"),
    ("GET", "/groups/{slug}/events.rss", "AAAAAAAA"),
    ("GET", "/groups/{slug}/events/pending", "SDDDDDAA"),
    ("GET", "/groups/{slug}/retention", "SDDDDDAA"),
    ("POST", "/groups/{slug}/invites", "SDDDDDAA"),
    // No such invite: organisers and admins get not found once access passed.
    ("POST", "/groups/{slug}/invites/{id}/revoke", "SDDDDDNN"),
    ("POST", "/groups/{slug}/members/{user_id}/remove", "SDDDDDAA"),
    ("POST", "/groups/{slug}/members/{user_id}/role", "SDDDDDAA"),
    ("POST", "/groups/{slug}/members/{user_id}/trusted", "SDDDDDAA"),
    ("GET", "/groups/{slug}/suppressions", "SDDDDDAA"),
    ("POST", "/groups/{slug}/suppressions", "SDDDDDAA"),
    ("GET", "/groups/{slug}/suppressions/remove", "SDDDDDAA"),
    ("POST", "/groups/{slug}/suppressions/remove", "SDDDDDAA"),
    ("POST", "/groups/{slug}/suppressions/upload", "SDDDDDAA"),
    // The national lists apply to every group: site admins load them from any group's page.
    ("POST", "/groups/{slug}/suppressions/national", "SDDDDDDA"),
    ("GET", "/healthz", "AAAAAAAA"),
    // Capability links (group invites, RSVPs, unsubscribing, sign-in links): the token is the
    // authority, so an unknown one is not found for everyone.
    ("GET", "/invites/{token}", "NNNNNNNN"),
    ("POST", "/invites/{token}/accept", "NNNNNNNN"),
    ("GET", "/login", "AAAAAAAA"),
    // Public sign-in: it answers every address alike by sending the browser back to /login.
    ("POST", "/login/link", "SSSSSSSS"),
    ("GET", "/login/link/{token}", "AAAAAAAA"),
    // Making an account: public; a signed-in person is sent on to where they were going.
    ("GET", "/signup", "AAAAAAAA"),
    // The second step of a sign-in in progress; without one it sends back to /login.
    ("GET", "/login/two-factor", "SSSSSSSS"),
    // Public steps of signing in (no pending sign-in here: 410 or a JSON error, never access).
    ("POST", "/login/two-factor/passkey", "AAAAAAAA"),
    ("POST", "/login/two-factor/passkey/options", "AAAAAAAA"),
    // Public by design: docs/operations.md says to block it at the proxy.
    ("GET", "/metrics", "AAAAAAAA"),
    ("GET", "/my/events", "SAAAAAAA"),
    ("GET", "/phonebank", "SAAAAAAA"),
    ("GET", "/rsvp/{token}", "NNNNNNNN"),
    ("GET", "/rsvp/{token}/cancel", "NNNNNNNN"),
    ("POST", "/rsvp/{token}/cancel", "NNNNNNNN"),
    ("POST", "/rsvp/{token}/feedback", "NNNNNNNN"),
    ("GET", "/unsubscribe/{token}", "NNNNNNNN"),
    ("POST", "/events/new", "SDAAAAAA"),
    ("POST", "/events/{id}/edit", "SDDDADAA"),
    // Top-level groups: admins only.
    ("POST", "/groups", "SDDDDDDA"),
    ("POST", "/groups/{slug}/campaigns/new", "SDDDDDAA"),
    ("POST", "/login", "AAAAAAAA"),
    // The same "check your email" page for every address, new or not.
    ("POST", "/signup", "AAAAAAAA"),
    ("POST", "/login/link/{token}", "SSSSSSSS"),
    // The second step of a sign-in in progress; without one it sends back to /login.
    ("POST", "/login/two-factor", "SSSSSSSS"),
    ("POST", "/unsubscribe/{token}", "NNNNNNNN"),
    // From here on the rows change who may call, then shared settings, then sessions: they run last.
    // Joining with a valid invite code is open to anyone signed in (the code is the authority);
    // a suspended caller who joins again stays suspended.
    ("POST", "/api/v1/campaigns/{id}/join", "SAAAAAAA"),
    ("POST", "/api/v1/invites/{code}/accept", "AAAAAAAA"),
    ("GET", "/call/join/{code}", "AAAAAAAA"),
    // The event's own phone bank, open now: hosts who run it, organisers and admins; callers
    // who have not signed up for the event are sent back to it with an error.
    ("POST", "/events/{id}/start-calling", "SDDDADAA"),
    // An address not yet proven joins no group (membership shows members-only events).
    ("POST", "/groups/{slug}/join", "SDAAAAAA"),
    ("POST", "/call/join/{code}", "AAAAAAAA"),
    // Settings everyone shares.
    ("POST", "/campaigns/{id}/pace", "SDDDDDAA"),
    ("POST", "/campaigns/{id}/shown-fields", "SDDDDDAA"),
    ("POST", "/campaigns/{id}/status", "SDDDDDAA"),
    ("POST", "/campaigns/{id}/result-codes/{crm}", "SDDDDDAA"),
    ("POST", "/events/{id}/cancel", "SDDDADAA"),
    ("POST", "/events/{id}/decision", "SDDDDDAA"),
    ("POST", "/groups/{slug}/event-approval", "SDDDDDAA"),
    ("POST", "/groups/{slug}/two-factor", "SDDDDDAA"),
    ("POST", "/groups/{slug}/retention", "SDDDDDAA"),
    // They end or change sessions, so each request gets a session of its own.
    ("POST", "/account/password", "SAAAAAAA"),
    ("POST", "/account/sign-out-everywhere", "SAAAAAAA"),
    ("POST", "/account/two-factor/off", "SAAAAAAA"),
    ("POST", "/logout", "AAAAAAAA"),
];

async fn every_route_has_a_row(app: TestApp) {
    let routes = routes::every_route(&app).await;
    let rows: BTreeSet<(String, String)> = TABLE
        .iter()
        .map(|(method, path, _)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(rows.len(), TABLE.len(), "a route has two rows");
    let missing: Vec<_> = routes.difference(&rows).collect();
    let stale: Vec<_> = rows.difference(&routes).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without a row in access_matrix::TABLE: {missing:?}; rows naming no route: {stale:?}"
    );
    assert!(
        routes.len() > 100,
        "route discovery found only {}",
        routes.len()
    );
}

async fn every_role_gets_the_expected_answer(app: TestApp) {
    let world = World::build(&app).await;
    let mut mismatches = Vec::new();
    let mut observed_table = String::new();
    let mut n = 0;
    for (method, path, expected) in TABLE {
        let mut observed = String::new();
        for (role, name) in ROLES.iter().enumerate() {
            n += 1;
            let response = requests::send(&app, &world, method, path, role, n).await;
            let got = requests::letter(path, &response);
            observed.push(got);
            if expected.chars().nth(role) != Some(got) {
                let body = gist(&response.body);
                mismatches.push(format!(
                    "{method} {path} as {name}: expected {}, got {got} ({} {} {body})",
                    expected.chars().nth(role).unwrap_or(' '),
                    response.status,
                    response.location()
                ));
            }
        }
        observed_table.push_str(&format!(
            "    (\"{method}\", \"{path}\", \"{observed}\"),\n"
        ));
    }
    assert!(
        mismatches.is_empty(),
        "{} answers differ from the table:\n{}\nobserved:\n{observed_table}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The words of a page or JSON answer, short enough for a failure message.
fn gist(body: &str) -> String {
    let main = body.find("<main").map_or(body, |at| &body[at..]);
    let mut text = String::new();
    let mut in_tag = false;
    for c in main.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect()
}

on_both! {
    every_route_has_a_row => every_route_has_a_row,
    every_role_gets_the_expected_answer => every_role_gets_the_expected_answer,
}
