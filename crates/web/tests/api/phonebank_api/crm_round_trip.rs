//! A CRM round trip: a list with VAN IDs imported, called through the API and exported in
//! NGP VAN's bulk-upload shape with the campaign's own result codes; the spreadsheet and
//! NationBuilder shapes; and choosing an external-id column when mapping a file.

use super::{claim, live_campaign, outcome, team, upload};
use crate::app::{Browser, TestApp, TestResponse};
use crate::lists::mapping::{preview, roles};
use crate::on_both;
use axum::http::{Method, StatusCode, header};
use serde_json::json;

const LIST: &str = "\
VANID,First Name,Surname,Mobile,Email,Ward,Member no
1001,Ada,Lovelace,020 7946 0001,ada@example.org,Headingley,M-1
1002,Alan,Turing,0113 496 0002,,Moortown,M-2
,Grace,Hopper,020 7946 0003,grace@example.org,Roundhay,M-3
";

async fn export(app: &TestApp, token: &str, id: i64, format: &str) -> TestResponse {
    app.api(
        Method::GET,
        &format!("/api/v1/campaigns/{id}/results.csv?format={format}"),
        Some(token),
        None,
    )
    .await
}

/// Claims every contact and records, by first name, what `said` gives.
async fn call_everyone(
    app: &TestApp,
    token: &str,
    id: i64,
    said: impl Fn(&str) -> serde_json::Value,
) {
    for n in 0..3 {
        let claimed = claim(app, token, id).await;
        assert_eq!(claimed.status, StatusCode::CREATED, "{}", claimed.body);
        let claimed = claimed.json();
        let name = claimed["contact"]["first_name"]
            .as_str()
            .unwrap()
            .to_owned();
        let lease = claimed["lease_id"].as_i64().unwrap();
        let recorded = outcome(app, token, lease, Some(&format!("crm-{n}")), said(&name)).await;
        assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.body);
    }
}

async fn a_list_with_van_ids_goes_back_to_van_with_the_campaigns_result_codes(app: TestApp) {
    let t = team(&app).await;
    let id = live_campaign(&app, &t, json!({})).await;
    let imported = upload(&app, &t.org, id, "?map=Member%20no:external_id", LIST).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(imported.json()["imported"], 3, "{}", imported.body);

    // The campaign calls "no answer" NH in VAN; the other outcomes keep VAN's names.
    let path = format!("/api/v1/campaigns/{id}/result-codes/van");
    let set = app
        .api(
            Method::PUT,
            &path,
            Some(&t.org),
            Some(json!({"codes": [{"outcome": "no_answer", "code": "NH"}]})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let codes = app.api(Method::GET, &path, Some(&t.org), None).await.json();
    let no_answer = codes["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["outcome"] == "no_answer")
        .unwrap()
        .clone();
    assert_eq!(
        no_answer,
        json!({"outcome": "no_answer", "label": "No answer", "code": "NH",
               "default_code": "Not Home", "chosen": true})
    );
    let unknown = app
        .api(
            Method::PUT,
            &path,
            Some(&t.org),
            Some(json!({"codes": [{"outcome": "hung_up", "code": "Hostile"}]})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown.body.contains("no outcome \\\"hung_up\\\""),
        "{}",
        unknown.body
    );
    let other_crm = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}/result-codes/salesforce"),
            Some(&t.org),
            None,
        )
        .await;
    assert_eq!(other_crm.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.api(Method::GET, &path, Some(&t.caller), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    call_everyone(&app, &t.caller, id, |name| match name {
        "Ada" => json!({"outcome": "spoke", "answers": {"q1": "yes", "q2": "Buses"},
                        "notes": "Will deliver leaflets"}),
        "Alan" => json!({"outcome": "no_answer"}),
        _ => json!({"outcome": "refused"}),
    })
    .await;
    let today = chrono::Utc::now().format("%m/%d/%Y").to_string();

    let van = export(&app, &t.org, id, "van").await;
    assert_eq!(van.status, StatusCode::OK, "{}", van.body);
    assert!(
        van.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains(&format!("campaign-{id}-results-van.csv"))
    );
    let lines: Vec<String> = van.body.lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            "VANID,Date Contacted,Phone Number,Contact Type,Canvass Result,q1,q2,Notes".to_owned(),
            format!("1001,{today},+442079460001,Phone,Canvassed,yes,Buses,Will deliver leaflets"),
            format!("1002,{today},+441134960002,Phone,NH,,,"),
        ],
        "Grace has no VAN ID, so VAN cannot take her row"
    );

    let generic = export(&app, &t.org, id, "generic").await;
    let lines: Vec<&str> = generic.body.lines().collect();
    assert_eq!(
        lines[0],
        "contact_id,first_name,last_name,phone,other_phone,email,postcode,Member no,VANID,Ward,\
         attempts,last_outcome,last_called_at,callback_at,q1,q2,notes"
    );
    assert_eq!(lines.len(), 4);
    let ada = lines.iter().find(|l| l.contains(",Ada,")).unwrap();
    assert!(
        ada.contains(",ada@example.org,,M-1,1001,Headingley,1,spoke,")
            && ada.ends_with(",yes,Buses,Will deliver leaflets"),
        "ids, imported columns and answers each in their own column: {ada}"
    );
    assert!(!generic.body.contains('{'), "no JSON: {}", generic.body);

    let nationbuilder = export(&app, &t.org, id, "nationbuilder").await;
    let lines: Vec<&str> = nationbuilder.body.lines().collect();
    assert_eq!(
        lines,
        [
            "nationbuilder_id,first_name,last_name,email,phone_number,tag_list,do_not_call,note,q1,q2",
            ",Ada,Lovelace,ada@example.org,+442079460001,phonebank: Spoke to them,,Will deliver leaflets,yes,Buses",
            ",Grace,Hopper,grace@example.org,+442079460003,phonebank: Refused to talk,,,,",
        ],
        "NationBuilder needs an email or its own id: Alan has neither"
    );

    let standard = export(&app, &t.org, id, "").await;
    assert!(
        standard
            .body
            .starts_with("contact_id,first_name,last_name,phone,other_phone,email,postcode,extra,"),
        "the default export is unchanged: {}",
        standard.body
    );
    let bad = export(&app, &t.org, id, "salesforce").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["details"]["field"], "format");
}

async fn the_mapping_step_guesses_crm_ids_and_takes_a_named_system(app: TestApp) {
    let t = team(&app).await;
    let id = live_campaign(&app, &t, json!({})).await;
    let csv = "VanID,nationbuilder_id,Mobile,Member no\n1001,77,020 7946 0001,M-1\n";
    let guessed = preview(&app, &t.org, id, "", csv).await;
    assert_eq!(guessed.status, StatusCode::OK, "{}", guessed.body);
    let pair = |h: &str, r: &str| (h.to_owned(), r.to_owned());
    assert_eq!(
        roles(&guessed.json()),
        [
            pair("VanID", "van_id"),
            pair("nationbuilder_id", "nationbuilder_id"),
            pair("Mobile", "phone"),
            pair("Member no", "extra"),
        ]
    );
    let chosen = preview(&app, &t.org, id, "Member no:external_id,VanID:ignore", csv).await;
    assert_eq!(
        roles(&chosen.json())[3],
        pair("Member no", "external_id"),
        "{}",
        chosen.body
    );
    assert_eq!(roles(&chosen.json())[0], pair("VanID", "ignore"));

    let imported = upload(
        &app,
        &t.org,
        id,
        "?map=Member%20no:external_id,VanID:ignore",
        csv,
    )
    .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let generic = export(&app, &t.org, id, "generic").await;
    assert!(
        generic
            .body
            .starts_with("contact_id,first_name,last_name,phone,other_phone,email,postcode,Member no,nationbuilder_id,attempts,"),
        "the named system is a column, the ignored VAN ID is not kept: {}",
        generic.body
    );
    assert!(!generic.body.contains("1001"), "{}", generic.body);
}

async fn organisers_choose_the_format_and_the_codes_on_the_campaign_page(app: TestApp) {
    let t = team(&app).await;
    let id = live_campaign(&app, &t, json!({})).await;
    let imported = upload(&app, &t.org, id, "", LIST).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let mut browser = Browser::new(&app);
    browser.sign_in("org@example.org").await;
    let page = browser.get(&format!("/campaigns/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(r#"<option value="van">NGP VAN bulk upload</option>"#),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"name="code:no_answer" value="" placeholder="Not Home""#)
    );
    let saved = browser
        .submit(
            &page,
            &format!("/campaigns/{id}/result-codes/van"),
            &[("code:no_answer", "NH"), ("code:spoke", "")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = browser.get(&format!("/campaigns/{id}")).await;
    assert!(
        page.body
            .contains(r#"name="code:no_answer" value="NH" placeholder="Not Home""#)
    );
    let unknown = browser
        .submit(
            &page,
            &format!("/campaigns/{id}/result-codes/van"),
            &[("code:hung_up", "Hostile")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::SEE_OTHER);
    let codes = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}/result-codes/van"),
            Some(&t.org),
            None,
        )
        .await
        .json();
    assert_eq!(
        codes["outcomes"][1]["code"], "NH",
        "a refused save changes nothing"
    );

    call_everyone(&app, &t.caller, id, |_| json!({"outcome": "no_answer"})).await;
    let download = browser
        .get(&format!("/campaigns/{id}/results.csv?format=van"))
        .await;
    assert_eq!(download.status, StatusCode::OK);
    assert!(
        download
            .body
            .lines()
            .skip(1)
            .all(|l| l.contains(",Phone,NH,")),
        "{}",
        download.body
    );
    assert_eq!(download.body.lines().count(), 3);
    let bad = browser
        .get(&format!("/campaigns/{id}/results.csv?format=csv"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

on_both! {
    crm_page_choices => organisers_choose_the_format_and_the_codes_on_the_campaign_page,
    crm_round_trip_van => a_list_with_van_ids_goes_back_to_van_with_the_campaigns_result_codes,
    crm_mapping_step => the_mapping_step_guesses_crm_ids_and_takes_a_named_system,
}
