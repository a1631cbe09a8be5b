//! Lists that keep people, over the API: a messy spreadsheet export keeps every contact
//! with a callable number (secondary-field problems are warnings), repeated numbers are
//! merged, and the rejected rows come back with their own columns so the fixed file
//! imports. The file is `tests/fixtures/messy-list.csv`, shared with the command-line
//! and browser tests.

pub(crate) mod mapping;

use crate::app::TestApp;
use crate::on_both;
use crate::phonebank_api::{live_campaign, team, upload};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

/// The messy export: a bad postcode, a district-only postcode, a bad email, a duplicate
/// pair with complementary fields and two rows without a callable number.
pub(crate) const MESSY: &str = include_str!("../../../../tests/fixtures/messy-list.csv");
/// Its rejected rows and warnings as every entrance writes them.
const MESSY_REJECTED: &str = include_str!("../../../../tests/fixtures/messy-list.rejected.csv");
const MESSY_WARNINGS: &str = include_str!("../../../../tests/fixtures/messy-list.warnings.csv");

fn notes(body: &Value, key: &str) -> Vec<(u64, String, String)> {
    body[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["line"].as_u64().unwrap(),
                n["column"].as_str().unwrap().to_owned(),
                n["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn a_messy_list_keeps_every_callable_contact(app: TestApp) {
    let t = team(&app).await;
    let id = live_campaign(&app, &t, json!({})).await;
    let first = upload(&app, &t.org, id, "", MESSY).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let body = first.json();
    let counts = [
        "imported",
        "duplicates",
        "suppressed",
        "warnings_total",
        "rejected_total",
    ]
    .map(|k| body[k].as_u64().unwrap());
    assert_eq!(counts, [4, 1, 0, 2, 2], "{body}");
    let warned: Vec<(u64, String)> = notes(&body, "warnings")
        .into_iter()
        .map(|(line, column, _)| (line, column))
        .collect();
    assert_eq!(warned, [(2, "Postcode".into()), (4, "Email".into())]);
    assert_eq!(
        notes(&body, "merged"),
        [(6, String::new(), "merged into line 5".into())]
    );
    let rejected: Vec<u64> = notes(&body, "rejected").iter().map(|n| n.0).collect();
    assert_eq!(rejected, [7, 8]);

    let contact = |phone: &'static str| {
        let store = app.store.clone();
        async move { store.contact_by_phone(id, phone).await.unwrap().unwrap() }
    };
    let asha = contact("+442079460101").await;
    assert_eq!(
        (asha.postcode, asha.email.as_deref()),
        (None, Some("asha@example.org"))
    );
    assert_eq!(
        contact("+441134960102").await.postcode.as_deref(),
        Some("M13")
    );
    let dev = contact("+442079460104").await;
    assert_eq!(dev.last_name, "Shah", "the later row filled the gap");
    assert_eq!(dev.other_phone.as_deref(), Some("+441134960199"));
    assert_eq!(dev.email.as_deref(), Some("dev@example.org"));

    let job = body["job_id"].as_i64().unwrap();
    let download = |what: &'static str| {
        let app = &app;
        let token = t.org.clone();
        async move {
            let got = app
                .api(
                    Method::GET,
                    &format!("/api/v1/imports/{job}/{what}.csv"),
                    Some(&token),
                    None,
                )
                .await;
            assert_eq!(got.status, StatusCode::OK, "{}", got.body);
            got.body
        }
    };
    // The same files `barnstorm import contacts` writes (crates/cli/tests/cli/import.rs).
    let rejected_csv = download("rejections").await;
    assert_eq!(rejected_csv, MESSY_REJECTED);
    assert!(
        rejected_csv
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("Eli,Ward,call after six,,eli@example.org,LS1 4AP,City,7,Mobile,"),
        "{rejected_csv}"
    );
    assert_eq!(download("warnings").await, MESSY_WARNINGS);

    let fixed = rejected_csv
        .replace("call after six", "020 7946 0107")
        .replace("07700 900123", "0161 496 0108");
    let again = upload(&app, &t.org, id, "", &fixed).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let again = again.json();
    assert_eq!(
        (again["imported"].as_u64(), again["rejected_total"].as_u64()),
        (Some(2), Some(0)),
        "{again}"
    );
    let eli = contact("+442079460107").await;
    assert_eq!(
        eli.extra.keys().collect::<Vec<_>>(),
        ["Ward"],
        "the report columns did not become contact fields"
    );
    assert_eq!(
        app.store.contact_count(id).await.unwrap(),
        6,
        "every callable contact"
    );
}

on_both! {
    messy_list => a_messy_list_keeps_every_callable_contact,
}
