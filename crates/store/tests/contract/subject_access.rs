//! Finding one person everywhere and erasing them: the lookup returns every planted row,
//! ambiguous and empty queries change nothing, and after erasure nothing in the database
//! (rows, SQLite file and WAL, pg_dump) names them while campaign totals stay the same.

mod schema_scan;

use crate::people::{MANCHESTER, group, live_event, rsvp_mail};
use barnstorm_domain::contact_import::ImportedContact;
use barnstorm_domain::event::Channel;
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::AuditAction;
use barnstorm_store::events::{NewRsvp, NewSupporter};
use barnstorm_store::phonebank::{Campaign, CampaignSettings, OutcomeRecord};
use barnstorm_store::subject::{Erasure, PersonLookup, PersonQuery};
use barnstorm_store::{Millis, NewMail, Store, both_backends};
use std::collections::BTreeMap;

pub(crate) const T0: Millis = 1_750_000_000_000;
const MINUTE: Millis = 60_000;
pub(crate) const LEASE: Millis = 10 * MINUTE;
const EMAIL: &str = "sam.example@example.org";

/// Every way the person could appear in a dump.
const TRACES: [&str; 9] = [
    "sam.example@example.org",
    "sam example",
    "2079460123",
    "20 7946 0123",
    "020 7946 0123",
    "7946 0123",
    "ls1 4ap",
    "hyde park",
    "walking the dog",
];

pub(crate) fn contact(
    line: u64,
    phone: &str,
    first: &str,
    last: &str,
    email: Option<&str>,
) -> ImportedContact {
    let mut extra = BTreeMap::new();
    extra.insert(
        "Ward".to_owned(),
        if first == "Sam" {
            "Hyde Park"
        } else {
            "Headingley"
        }
        .to_owned(),
    );
    ImportedContact {
        line,
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        phone_e164: normalise_phone(phone, Region::GB).unwrap(),
        other_phone_e164: None,
        email: email.map(Into::into),
        postcode: Some(if first == "Sam" { "LS1 4AP" } else { "LS6 2AA" }.into()),
        extra,
        external_ids: Default::default(),
        warnings: Vec::new(),
    }
}

fn sam(line: u64) -> ImportedContact {
    contact(
        line,
        "020 7946 0123",
        "Sam",
        "Example",
        Some("Sam.Example@example.org"),
    )
}

pub(crate) async fn campaign(
    store: &Store,
    group_id: i64,
    name: &str,
    list: &[ImportedContact],
) -> Campaign {
    let mut settings = CampaignSettings::new(name);
    settings.retry.min_minutes_between_attempts = 30;
    let c = store
        .create_campaign(group_id, &settings, None)
        .await
        .unwrap();
    store.insert_contacts(c.id, group_id, list).await.unwrap();
    c
}

pub(crate) async fn call(
    store: &Store,
    c: &Campaign,
    caller: i64,
    now: Millis,
    outcome: &str,
) -> (i64, String) {
    let claimed = store
        .claim_next_contact(c.id, caller, now, LEASE)
        .await
        .unwrap()
        .unwrap();
    let is_sam = claimed.contact.first_name.starts_with("Sam");
    let key = format!("k{}", claimed.lease_id);
    store
        .record_outcome(&OutcomeRecord {
            lease_id: claimed.lease_id,
            caller_id: caller,
            idempotency_key: &key,
            outcome: c.settings.outcomes.get(outcome).unwrap(),
            answers_json: r#"{"support":"yes"}"#,
            notes: if is_sam {
                "out walking the dog, Sam Example said call later"
            } else {
                ""
            },
            callback_at: None,
            retry: &c.settings.retry,
            group_id: c.group_id,
            campaign_id: c.id,
            do_not_call_per_hour: 10,
            now,
        })
        .await
        .unwrap();
    (claimed.contact.id, claimed.contact.first_name)
}

struct Planted {
    group_id: i64,
    caller: i64,
    campaigns: Vec<Campaign>,
    held_lease: i64,
}

/// One person everywhere: an account, an RSVP with consents, contacts in three campaigns,
/// three calls with answers and notes, a held lease, outreach mail and a suppression.
async fn plant(store: &Store) -> Planted {
    let group_id = group(store, "Leeds").await;
    let caller = store
        .create_user("ann@example.org", "Ann Caller", None, false)
        .await
        .unwrap()
        .id;
    store
        .create_user(EMAIL, "Sam Example", None, false)
        .await
        .unwrap();
    let event = live_event(store, group_id, None).await;
    store
        .create_rsvp(
            &NewRsvp {
                event_id: event.id,
                shift_id: None,
                supporter: NewSupporter {
                    email: EMAIL.into(),
                    name: "Sam Example".into(),
                    postcode: Some("LS1 4AP".into()),
                    location: Some(MANCHESTER),
                    phone: Some("+442079460123".into()),
                },
                consents: vec![Channel::Email, Channel::Phone],
                form_url: "https://example.org/events/1".into(),
                manage_token: "manage-sam".into(),
            },
            &rsvp_mail,
        )
        .await
        .unwrap();
    let olive = contact(
        3,
        "020 7946 0999",
        "Olive",
        "Other",
        Some("olive@example.org"),
    );
    let a = campaign(store, group_id, "Spring", &[sam(2)]).await;
    let b = campaign(store, group_id, "Summer", &[sam(2), olive]).await;
    let c = campaign(store, group_id, "Autumn", &[sam(2)]).await;
    call(store, &a, caller, T0, "no_answer").await;
    call(store, &a, caller, T0 + 3 * 24 * 60 * MINUTE, "spoke").await;
    call(store, &b, caller, T0, "spoke").await;
    call(store, &b, caller, T0 + MINUTE, "spoke").await;
    let held = store
        .claim_next_contact(c.id, caller, T0, LEASE)
        .await
        .unwrap()
        .unwrap();
    store
        .enqueue_mail(&NewMail {
            to: EMAIL.into(),
            subject: "Canvass near you".into(),
            body_text: "Hello Sam Example".into(),
            headers: BTreeMap::new(),
            ..Default::default()
        })
        .await
        .unwrap();
    store.add_suppression(EMAIL, "bounced").await.unwrap();
    Planted {
        group_id,
        caller,
        campaigns: vec![a, b, c],
        held_lease: held.lease_id,
    }
}

fn query(email: Option<&str>, phone: Option<&str>) -> PersonQuery {
    PersonQuery::parse(email, phone, None, None).unwrap()
}

async fn finds_every_planted_record(store: Store) {
    plant(&store).await;
    let PersonLookup::Found(found) = store
        .find_person(&query(None, Some("+44 (0)20 7946 0123")))
        .await
        .unwrap()
    else {
        panic!("one person expected");
    };
    let count = |t: &str| found.rows(t).len();
    assert_eq!(
        count("users"),
        1,
        "their account, found through the supporter's email"
    );
    assert_eq!(
        (count("supporters"), count("consents"), count("rsvps")),
        (1, 2, 1)
    );
    assert_eq!(
        count("contacts"),
        3,
        "one contact in each of three campaigns"
    );
    assert_eq!(count("call_attempts"), 3);
    assert_eq!(
        count("leases"),
        4,
        "three calls and the held lease: who was shown them"
    );
    assert_eq!(count("email_suppressions"), 1);
    assert!(
        count("outbox") >= 2,
        "the RSVP confirmation and the outreach mail"
    );
    let all = serde_json::to_string(&found.tables).unwrap();
    assert!(all.contains("Hyde Park"), "the raw import columns");
    assert!(all.contains("walking the dog"), "the notes");
    assert!(!all.contains("Olive"), "nobody else's contact");
}

async fn ambiguous_and_empty_queries_change_nothing(store: Store) {
    let planted = plant(&store).await;
    let other = contact(2, "0113 496 0555", "Samantha", "Exton", Some(EMAIL));
    campaign(&store, planted.group_id, "Winter", &[other]).await;
    let by_email = query(Some(EMAIL), None);
    let PersonLookup::Several(people) = store.find_person(&by_email).await.unwrap() else {
        panic!("two people share the address");
    };
    let names: Vec<_> = people.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Sam Example", "Samantha Exton"]);
    assert!(matches!(
        store.erase_person(&by_email, None).await.unwrap(),
        Erasure::Several(_)
    ));
    let picked =
        PersonQuery::parse(Some(EMAIL), None, Some("Sam  Example"), Some("ls14ap")).unwrap();
    assert!(matches!(
        store.find_person(&picked).await.unwrap(),
        PersonLookup::Found(_)
    ));
    let nobody = query(Some("nobody@example.org"), Some("029 2018 0000"));
    assert!(matches!(
        store.find_person(&nobody).await.unwrap(),
        PersonLookup::Nobody
    ));
    assert!(matches!(
        store.erase_person(&nobody, None).await.unwrap(),
        Erasure::Nobody
    ));
    assert!(
        store
            .dump_everything()
            .await
            .unwrap()
            .to_lowercase()
            .contains(EMAIL)
    );
}

async fn erasure_leaves_no_trace_and_keeps_totals(store: Store) {
    let planted = plant(&store).await;
    let stats = |c: i64| {
        let store = store.clone();
        async move {
            let s = store.campaign_stats(c, T0 + 2 * LEASE).await.unwrap();
            (s.outcomes, s.survey, s.conversations, s.progress)
        }
    };
    let mut before = Vec::new();
    for c in &planted.campaigns {
        before.push(stats(c.id).await);
    }
    let Erasure::Erased(report) = store
        .erase_person(
            &query(Some(EMAIL), Some("020 7946 0123")),
            Some(planted.caller),
        )
        .await
        .unwrap()
    else {
        panic!("one person expected");
    };
    assert!(report.deleted > 0 && report.anonymised > 0 && report.suppressed_digests == 2);
    let dump = store.dump_everything().await.unwrap().to_lowercase();
    for trace in TRACES {
        assert!(!dump.contains(trace), "{trace:?} is still in the database");
    }
    assert!(
        dump.contains("olive"),
        "the dump sees other people, so it can find traces"
    );
    for (c, was) in planted.campaigns.iter().zip(&before) {
        let now = stats(c.id).await;
        assert_eq!(now.0, was.0, "outcome counts of {}", c.settings.name);
        assert_eq!(now.1, was.1, "survey totals of {}", c.settings.name);
        assert_eq!(now.2, was.2, "conversations of {}", c.settings.name);
    }
    assert!(
        store
            .heartbeat_lease(planted.held_lease, planted.caller, T0 + MINUTE, LEASE)
            .await
            .is_err(),
        "the caller holding them loses the lease"
    );
    let again = campaign(&store, planted.group_id, "Again", &[]).await;
    let by_phone = contact(2, "+44 20 7946 0123", "S", "E", None);
    let by_email = contact(
        3,
        "0161 496 0777",
        "S",
        "E",
        Some("SAM.EXAMPLE@example.org"),
    );
    let result = store
        .insert_contacts(again.id, again.group_id, &[by_phone, by_email])
        .await
        .unwrap();
    assert_eq!(
        (result.imported, result.suppressed),
        (0, 2),
        "re-imports stay suppressed"
    );
    assert!(matches!(
        store.find_person(&query(Some(EMAIL), None)).await.unwrap(),
        PersonLookup::Nobody
    ));
    let audit = store.recent_audit(5).await.unwrap();
    let erase = audit
        .iter()
        .find(|a| a.action == AuditAction::PersonErase)
        .unwrap();
    assert_eq!(erase.actor_user_id, Some(planted.caller));
    assert!(
        !erase.detail.to_lowercase().contains("sam"),
        "the audit does not name them"
    );
}

both_backends! {
    finds_every_planted_record => finds_every_planted_record,
    ambiguous_and_empty_queries_change_nothing => ambiguous_and_empty_queries_change_nothing,
    erasure_leaves_no_trace_and_keeps_totals => erasure_leaves_no_trace_and_keeps_totals,
}
