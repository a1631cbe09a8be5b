//! The subject-access ZIP: `person.json` with everything, one CSV per kind of record and
//! a README.txt in plain English saying what each part is, where it came from, why it is
//! kept, for how long, and who was shown the person's record and when.

use super::zip::ZipWriter;
use barnstorm_store::subject::PersonRecords;
use chrono::DateTime;
use serde_json::Value;
use std::io::{self, Write};

/// What one table is, in words for the person: what, where from, why, how long.
pub(crate) fn describe(table: &str) -> (&'static str, &'static str, &'static str, &'static str) {
    const ACCOUNT: &str = "you made an account or were invited to one";
    const SIGN_IN: &str = "to keep you signed in and your account secure";
    match table {
        "users" => (
            "your account: email address, name, when it was made and confirmed",
            ACCOUNT,
            "to let you sign in and take part",
            "until you or an administrator delete it",
        ),
        "sessions" | "api_tokens" | "sign_in_links" | "second_steps" => (
            "sign-ins and access tokens (stored only as hashes)",
            ACCOUNT,
            SIGN_IN,
            "sessions and links until they expire; tokens until revoked",
        ),
        "passkeys" | "passkey_registrations" | "totp_authenticators" | "recovery_codes" => (
            "second factors you set up for your account",
            ACCOUNT,
            SIGN_IN,
            "until you remove them",
        ),
        "memberships" => (
            "the groups you belong to and your role in each",
            "an organiser added you or you accepted an invitation",
            "to give you access to your groups",
            "while you are a member",
        ),
        "campaign_callers" | "campaign_invite_signups" => (
            "phone banks you joined as a caller",
            "you joined through an invite link",
            "to let you make calls and to keep calling fair and safe",
            "while the campaign runs",
        ),
        "group_invites" => (
            "invitations sent to your email address",
            "an organiser invited you",
            "to let you join a group",
            "until accepted, revoked or expired",
        ),
        "supporters" => (
            "your supporter record: email, name, postcode, phone",
            "you signed up or replied to an event",
            "to tell you about events near you if you agreed",
            "until you ask us to delete it; without any consent and activity, for the instance's retention period (24 months unless the operator set another)",
        ),
        "consents" => (
            "what you agreed to be contacted about, by which channel, and when you withdrew",
            "the form where you gave it",
            "to prove we may contact you, and to stop when you ask",
            "as long as the supporter record",
        ),
        "consent_wordings" => (
            "the exact words beside each box you ticked (a consent's wording_id)",
            "the form you filled in",
            "to prove what you agreed to",
            "as long as a consent uses them",
        ),
        "rsvps" | "rsvp_notices" | "rsvp_links" => (
            "events you said you would attend, attendance and feedback",
            "your RSVP",
            "to organise the event and send you reminders",
            "until the event's retention period ends (365 days after the event unless the organisers set another); then only the counts and attendance are kept, without you",
        ),
        "email_audience" | "outreach_recipients" => (
            "where we may send you event news and when we last did",
            "your supporter record and consent",
            "to send event news only to people who agreed, no more than once a week",
            "as long as the supporter record",
        ),
        "contacts" => (
            "your entry in a phone bank list, with every column of the list it came from",
            "a list an organiser imported",
            "to call you on behalf of the campaign",
            "until the campaign's retention period ends (90 days after it finishes unless the organisers set another); then the entry is emptied",
        ),
        "contact_external_ids" => (
            "your ids in other systems the list came from (such as a VAN ID or NationBuilder id)",
            "a list an organiser imported",
            "to send the campaign's results back to those systems",
            "until the campaign's retention period ends; then they are deleted with your entry's details",
        ),
        "leases" => (
            "each time a caller was shown your details",
            "the calling system",
            "to make sure one caller at a time calls you, and to account for who saw you",
            "as long as the campaign's records; once its list is emptied they no longer lead to you",
        ),
        "call_attempts" => (
            "calls made to you: outcome, your answers and the caller's notes",
            "the caller who called you",
            "to run the campaign and not call you too often",
            "notes until the campaign's list is emptied; the outcome and answers then stay for the campaign's totals, without you",
        ),
        "caller_phones" => (
            "your own phone number, which Barnstorm rings when you call with \"call me\"",
            "you gave it to make calls",
            "to ring you when you start calling; it is never shown to anyone",
            "until you remove it or ask us to delete it",
        ),
        "phone_sessions" => (
            "your sessions calling by phone: the phone bank, how you joined, when they started and ended",
            "the calling system",
            "to connect you to the people you call",
            "as long as the campaign's records",
        ),
        "call_records" => (
            "calls Barnstorm placed between a caller and you: when it rang, was answered and ended, who hung up (never a phone number)",
            "the calling system",
            "to run the campaign and count talk time and answered calls",
            "as long as the campaign's records; once its list is emptied they no longer lead to you",
        ),
        "do_not_call" | "tps_numbers" | "email_suppressions" => (
            "a record that you must not be called or mailed",
            "you asked us, or the Telephone Preference Service lists you",
            "to respect your choice",
            "for as long as we run campaigns",
        ),
        "outbox" => (
            "email sent to you, with its full text",
            "messages the system sent",
            "to deliver them and show they were sent",
            "sent mail is purged after it is delivered",
        ),
        "audit_log" => (
            "the record of actions that named you",
            "the system",
            "to account for who did what with personal data",
            "24 months unless the operator set another period",
        ),
        "login_failures" | "rate_limit_counters" => (
            "counters that limit repeated sign-in attempts for your address",
            "sign-in attempts",
            "to protect your account from guessing",
            "24 hours",
        ),
        "import_rejections" => (
            "rows of an imported list that quoted you but could not be imported",
            "a list an organiser imported",
            "to tell the organiser what to fix",
            "until the campaign's list is emptied",
        ),
        _ => (
            "other records about you",
            "the system",
            "to run the service",
            "as long as the service needs them",
        ),
    }
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn csv_of(rows: &[serde_json::Map<String, Value>]) -> io::Result<Vec<u8>> {
    let mut columns: Vec<&String> = Vec::new();
    for row in rows {
        for key in row.keys() {
            if !columns.contains(&key) {
                columns.push(key);
            }
        }
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(&columns).map_err(io::Error::other)?;
    for row in rows {
        let record: Vec<String> = columns
            .iter()
            .map(|c| row.get(*c).map(cell).unwrap_or_default())
            .collect();
        out.write_record(&record).map_err(io::Error::other)?;
    }
    out.into_inner()
        .map_err(|e| io::Error::other(e.to_string()))
}

fn when(millis: i64) -> String {
    DateTime::from_timestamp_millis(millis).map_or_else(
        || millis.to_string(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

fn readme(records: &PersonRecords, generated_at: i64) -> String {
    let mut text = format!(
        "EVERYTHING WE HOLD ABOUT YOU\n\nThis export was made on {}. It holds every record about you that we found under {}.\n\n\
         person.json has everything in one machine-readable file. The folder tables/ has the same records as\n\
         spreadsheets (CSV), one per kind. Times in the files are milliseconds since 1970-01-01 UTC.\n\n\
         WHAT EACH PART IS\n\n",
        when(generated_at),
        [records.emails.join(", "), records.phones.join(", ")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" and "),
    );
    for table in &records.tables {
        let (what, source, purpose, retention) = describe(table.table);
        text.push_str(&format!(
            "tables/{}.csv ({} rows)\n  What: {what}.\n  Where it came from: {source}.\n  Why we keep it: {purpose}.\n  How long: {retention}.\n\n",
            table.table,
            table.rows.len()
        ));
    }
    text.push_str("WHO WAS SHOWN YOUR RECORD\n\n");
    if records.views.is_empty() {
        text.push_str("No caller has been shown your details.\n");
    }
    for view in &records.views {
        text.push_str(&format!(
            "{}: {} (campaign \"{}\")\n",
            when(view.shown_at),
            view.caller,
            view.campaign
        ));
    }
    text.push_str(
        "\nOrganisers of a campaign can also see its list and results. To have these records corrected or\n\
         erased, reply to the person who sent you this export.\n",
    );
    text
}

/// Writes the export of `records` to `out` as a ZIP, entry by entry.
pub fn write_person_export<W: Write>(
    records: &PersonRecords,
    generated_at: i64,
    out: W,
) -> io::Result<W> {
    let mut zip = ZipWriter::new(out);
    zip.add("README.txt", readme(records, generated_at).as_bytes())?;
    let json = serde_json::to_vec_pretty(records).map_err(io::Error::other)?;
    zip.add("person.json", &json)?;
    for table in &records.tables {
        zip.add(
            &format!("tables/{}.csv", table.table),
            &csv_of(&table.rows)?,
        )?;
    }
    zip.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use barnstorm_domain::contact_import::ImportedContact;
    use barnstorm_domain::phone::{Region, normalise_phone};
    use barnstorm_store::phonebank::CampaignSettings;
    use barnstorm_store::subject::{PersonLookup, PersonQuery};
    use barnstorm_store::testing::TestDatabase;
    use barnstorm_store::{GroupKind, NewMail};
    use std::collections::BTreeMap;

    /// Entries are stored uncompressed, so each planted value appears in the bytes as
    /// written (JSON text or a CSV cell); `unzip -t` checks the archive where installed.
    #[tokio::test]
    async fn the_zip_holds_every_planted_record() {
        zip_holds_every_planted_record(TestDatabase::sqlite().await).await;
        if let Some(db) = TestDatabase::postgres().await {
            zip_holds_every_planted_record(db).await;
        }
    }

    async fn zip_holds_every_planted_record(db: TestDatabase) {
        let store = &db.store;
        store
            .create_user("sam.example@example.org", "Sam Example", None, false)
            .await
            .unwrap();
        let group = store
            .create_group(None, "Leeds", GroupKind::Branch, "", None)
            .await
            .unwrap();
        let mut extra = BTreeMap::new();
        extra.insert("Ward".to_owned(), "Hyde Park".to_owned());
        let sam = ImportedContact {
            line: 2,
            first_name: Some("Sam".into()),
            last_name: Some("Example".into()),
            phone_e164: normalise_phone("020 7946 0123", Region::GB).unwrap(),
            other_phone_e164: None,
            email: Some("sam.example@example.org".into()),
            postcode: Some("LS1 4AP".into()),
            extra,
            external_ids: Default::default(),
            warnings: Vec::new(),
        };
        for name in ["Spring", "Summer"] {
            let c = store
                .create_campaign(group.id, &CampaignSettings::new(name), None)
                .await
                .unwrap();
            store
                .insert_contacts(c.id, group.id, std::slice::from_ref(&sam))
                .await
                .unwrap();
        }
        store
            .enqueue_mail(&NewMail {
                to: "sam.example@example.org".into(),
                subject: "Canvass near you".into(),
                body_text: "Hello".into(),
                headers: BTreeMap::new(),
                ..Default::default()
            })
            .await
            .unwrap();
        let query = PersonQuery::parse(None, Some("+44 20 7946 0123"), None, None).unwrap();
        let PersonLookup::Found(records) = store.find_person(&query).await.unwrap() else {
            panic!("one person expected");
        };
        let bytes = write_person_export(&records, 0, Vec::new()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for name in [
            "README.txt",
            "person.json",
            "tables/users.csv",
            "tables/contacts.csv",
            "tables/outbox.csv",
        ] {
            assert!(text.contains(name), "{name} is in the ZIP");
        }
        assert_eq!(
            text.matches("Hyde Park").count(),
            4,
            "both contacts' raw columns, in JSON and CSV"
        );
        assert!(text.contains("Canvass near you") && text.contains("Sam Example"));
        assert!(
            text.contains("tables/contacts.csv (2 rows)"),
            "the README counts them"
        );
        if std::process::Command::new("unzip")
            .arg("-v")
            .output()
            .is_ok()
        {
            let path = std::env::temp_dir().join(format!("export-{}.zip", std::process::id()));
            std::fs::write(&path, &bytes).unwrap();
            let check = std::process::Command::new("unzip")
                .arg("-t")
                .arg(&path)
                .output()
                .unwrap();
            let _ = std::fs::remove_file(&path);
            assert!(
                check.status.success(),
                "{}",
                String::from_utf8_lossy(&check.stdout)
            );
        }
        db.drop_database().await;
    }
}
