//! The demo's call campaign: "Get out the vote — North West", live, with a branching
//! survey, 10,000 fictional contacts on Ofcom drama numbers (never a real person) and an
//! open invite link for callers.

use anyhow::Context;
use barnstorm_domain::contact_import::ImportedContact;
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::Store;
use barnstorm_store::phonebank::{CampaignSettings, CampaignStatus};
use barnstorm_web::auth::new_secret;
use std::collections::BTreeMap;

/// The demo account that calls the demo campaign.
pub(crate) const DEMO_CALLER: &str = "caller@example.org";
/// Contacts in the demo campaign.
const CONTACTS: usize = 10_000;
/// Ofcom's geographic drama ranges that libphonenumber accepts: each prefix + three digits.
const DRAMA_RANGES: [&str; 10] = [
    "0161 496 0",
    "0151 496 0",
    "020 7946 0",
    "0113 496 0",
    "0114 496 0",
    "0116 496 0",
    "0117 496 0",
    "0121 496 0",
    "0141 496 0",
    "029 2018 0",
];
const FIRST_NAMES: [&str; 16] = [
    "Aisha", "Ben", "Chloe", "Dev", "Eilidh", "Femi", "Gareth", "Hannah", "Imran", "Jess", "Kwame",
    "Laura", "Mo", "Niamh", "Owen", "Priya",
];
const LAST_NAMES: [&str; 12] = [
    "Ahmed", "Brown", "Campbell", "Davies", "Evans", "Khan", "Murphy", "Nowak", "Okafor", "Patel",
    "Smith", "Wilson",
];
const PLACES: [(&str, &str); 8] = [
    ("M13", "Ardwick"),
    ("M14", "Fallowfield"),
    ("M20", "Didsbury West"),
    ("L8", "Princes Park"),
    ("L15", "Wavertree"),
    ("PR1", "City Centre"),
    ("LA1", "Castle"),
    ("BL1", "Halliwell"),
];

const SCRIPT: &str = "Hi {first_name|there}, my name is … and I'm a volunteer with Barnstorm North West. \
We're calling people in {ward|your area} ahead of polling day. Have you got a couple of minutes?";

fn survey() -> serde_json::Value {
    serde_json::json!({"questions": [
        {"key": "support", "label": "Can we count on your vote?", "required": true,
         "kind": {"type": "single_choice", "options": [
             {"key": "yes", "label": "Yes"}, {"key": "leaning", "label": "Leaning our way"},
             {"key": "undecided", "label": "Undecided"}, {"key": "no", "label": "No"}]}},
        {"key": "volunteer", "label": "Would you help on polling day?",
         "kind": {"type": "single_choice", "options": [
             {"key": "yes", "label": "Yes"}, {"key": "maybe", "label": "Maybe"}, {"key": "no", "label": "No"}]},
         "show_if": {"question_key": "support", "equals_any": ["yes", "leaning"]}},
        {"key": "issues", "label": "Which issues matter most to you?",
         "kind": {"type": "multiple_choice", "options": [
             {"key": "housing", "label": "Housing"}, {"key": "nhs", "label": "NHS"},
             {"key": "cost_of_living", "label": "Cost of living"}, {"key": "climate", "label": "Climate"}]}},
        {"key": "comment", "label": "Anything else they said", "kind": {"type": "free_text", "max_len": 500}}
    ]})
}

fn contact(i: usize) -> anyhow::Result<ImportedContact> {
    let prefix = DRAMA_RANGES[i / 1000 % DRAMA_RANGES.len()];
    let phone = normalise_phone(&format!("{prefix}{:03}", i % 1000), Region::GB)
        .with_context(|| format!("demo number {i}"))?;
    let (outcode, ward) = PLACES[i % PLACES.len()];
    let first = FIRST_NAMES[i % FIRST_NAMES.len()];
    let last = LAST_NAMES[(i / FIRST_NAMES.len()) % LAST_NAMES.len()];
    let mut extra = BTreeMap::new();
    extra.insert("ward".to_owned(), ward.to_owned());
    Ok(ImportedContact {
        line: u64::try_from(i + 2).unwrap_or(u64::MAX),
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
        phone_e164: phone,
        other_phone_e164: None,
        email: Some(format!(
            "{}.{}{i}@example.org",
            first.to_lowercase(),
            last.to_lowercase()
        )),
        postcode: Some(format!("{outcode} {}AB", i % 9 + 1)),
        extra,
        external_ids: Default::default(),
        warnings: Vec::new(),
    })
}

/// Creates the live campaign with its contacts and invite; returns (name, contacts, link).
pub(crate) async fn load(
    store: &Store,
    group_id: i64,
    base_url: &str,
) -> anyhow::Result<(String, usize, String)> {
    let mut settings = CampaignSettings::new("Get out the vote — North West");
    settings.briefing =
        "Be friendly, be brief, and always record an outcome. If someone asks not to be called \
        again, choose \"Do not call\": they will never be rung by this group again."
            .to_owned();
    settings.script = SCRIPT.to_owned();
    settings.survey = serde_json::from_value(survey()).context("the demo survey")?;
    settings.calling_hours = serde_json::from_value(serde_json::json!({
        "time_zone": "Europe/London",
        "days": {
            "monday": {"start": "09:00", "end": "21:00"}, "tuesday": {"start": "09:00", "end": "21:00"},
            "wednesday": {"start": "09:00", "end": "21:00"}, "thursday": {"start": "09:00", "end": "21:00"},
            "friday": {"start": "09:00", "end": "21:00"}, "saturday": {"start": "10:00", "end": "18:00"},
            "sunday": {"start": "10:00", "end": "18:00"}
        }
    }))
    .context("the demo calling hours")?;
    settings.leaderboard = true;
    let campaign = store.create_campaign(group_id, &settings, None).await?;
    let contacts = (0..CONTACTS)
        .map(contact)
        .collect::<anyhow::Result<Vec<_>>>()?;
    for batch in contacts.chunks(2_000) {
        store.insert_contacts(campaign.id, group_id, batch).await?;
    }
    store
        .set_campaign_status(campaign.id, CampaignStatus::Live, None)
        .await?;
    // The demo's caller account calls this campaign without needing the invite link.
    let caller = store
        .user_by_email(DEMO_CALLER)
        .await?
        .context("the demo caller")?;
    store.add_campaign_caller(campaign.id, caller.id).await?;
    let code: String = new_secret().chars().take(22).collect();
    let thirty_days = 30 * 24 * 3600 * 1000;
    let organiser = store
        .user_by_email("northwest@example.org")
        .await?
        .context("the demo organiser")?;
    store
        .create_campaign_invite(
            campaign.id,
            &code,
            organiser.id,
            barnstorm_store::now_millis() + thirty_days,
            Some(1_000),
            Some(600),
        )
        .await?;
    Ok((
        settings.name,
        CONTACTS,
        format!("{}/call/join/{code}", base_url.trim_end_matches('/')),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use barnstorm_dispatch::{CampaignEvents, Dispatcher};
    use barnstorm_store::{DatabaseUrl, Store, StoreOptions};

    #[tokio::test]
    async fn the_demo_caller_account_can_call_the_demo_campaign() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("demo.db"));
        let store = Store::connect(&url, &StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        crate::demo::load(&store, "http://localhost:8080")
            .await
            .unwrap();
        let caller = store
            .user_by_email(super::DEMO_CALLER)
            .await
            .unwrap()
            .unwrap();
        let campaign = store.all_campaigns().await.unwrap().remove(0);
        let dispatcher = Dispatcher::new(store.clone(), CampaignEvents::default());
        assert!(
            dispatcher.may_call(&caller, &campaign).await.unwrap(),
            "the demo's caller is a caller of the demo campaign"
        );
        store.close().await;
    }
}
