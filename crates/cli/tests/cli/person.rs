//! `barnstorm person export` and `person erase` on a SQLite file holding one person (an
//! account and a contact on the demo campaign), and `barnstorm user grant|revoke`: what
//! each prints, and what each changed in the database.

use crate::{barnstorm, import_contacts, run};

const EMAIL: &str = "sam.example@example.org";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A demo database with Sam Example on the demo campaign's list and as an account (on a
/// drama number the demo's own contacts do not use). Returns the database URL and the list.
fn database_with_sam(dir: &std::path::Path) -> (String, String) {
    let db = format!("sqlite:{}", dir.join("barnstorm.db").display());
    barnstorm(&["demo", "--database-url", &db]);
    let list = dir.join("sam.csv");
    std::fs::write(
        &list,
        format!("First Name,Last Name,Phone,Email\nSam,Example,0131 496 0555,{EMAIL}\n"),
    )
    .unwrap();
    let list = list.to_str().unwrap().to_owned();
    let imported = import_contacts(&db, &list).1;
    assert!(imported.starts_with("Imported 1 contacts"), "{imported}");
    barnstorm(&[
        "user",
        "add",
        "--email",
        EMAIL,
        "--name",
        "Sam Example",
        "--database-url",
        &db,
    ]);
    (db, list)
}

/// Runs `barnstorm person ARGS --database-url DB` and returns (success, what it printed).
fn person(db: &str, args: &[&str]) -> (bool, String) {
    let mut all = vec!["person"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--database-url", db]);
    let output = run(&all);
    let printed = format!("{}{}", text(&output.stdout), text(&output.stderr));
    (output.status.success(), printed)
}

#[test]
fn person_export_and_erase_answer_a_request_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (db, list) = database_with_sam(dir.path());
    let zip = dir.path().join("sam.zip");
    let zip = zip.to_str().unwrap();

    let exported = person(
        &db,
        &["export", "--phone", "+44 131 496 0555", "--out", zip],
    );
    assert!(
        exported.0 && exported.1.starts_with("Wrote "),
        "{exported:?}"
    );
    let bytes = std::fs::read(zip).unwrap();
    assert_eq!(&bytes[..4], b"PK\x03\x04", "a ZIP");
    let archive = text(&bytes);
    assert!(
        archive.contains("person.json")
            && archive.contains(EMAIL)
            && archive.contains("Sam Example"),
        "the export holds the account and the contact"
    );

    let unconfirmed = person(&db, &["erase", "--email", EMAIL]);
    assert!(
        !unconfirmed.0
            && unconfirmed
                .1
                .contains("nothing was changed: run again with --yes"),
        "without --yes it refuses: {unconfirmed:?}"
    );
    let still = person(&db, &["export", "--email", EMAIL, "--out", zip]);
    assert!(still.0, "nothing was erased: {still:?}");

    let erased = person(&db, &["erase", "--email", EMAIL, "--yes"]);
    assert!(
        erased.0 && erased.1.contains("Erased:") && erased.1.contains("stay suppressed"),
        "{erased:?}"
    );
    for args in [
        &["export", "--phone", "0131 496 0555", "--out", zip][..],
        &["erase", "--email", EMAIL, "--yes"][..],
    ] {
        let gone = person(&db, args);
        assert!(
            !gone.0 && gone.1.contains("nobody matches"),
            "{args:?}: {gone:?}"
        );
    }
    let reimported = import_contacts(&db, &list).1;
    assert!(
        reimported.contains("Imported 0 contacts")
            && reimported.contains("1 on do-not-call/TPS lists"),
        "an erased number stays suppressed: {reimported}"
    );
}

/// Runs `barnstorm user ACTION --email EMAIL --role ROLE` and returns (success, output).
fn user_role(db: &str, action: &str, email: &str, role: &str) -> (bool, String) {
    let output = run(&[
        "user",
        action,
        "--email",
        email,
        "--role",
        role,
        "--database-url",
        db,
    ]);
    let printed = format!("{}{}", text(&output.stdout), text(&output.stderr));
    (output.status.success(), printed)
}

#[test]
fn user_grant_and_revoke_change_the_data_protection_role() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("barnstorm.db").display());
    let dpo = "dpo@example.org";
    let made = user_role(&db, "add", dpo, "data-protection");
    assert!(
        made.0 && made.1.contains("Created data-protection officer"),
        "{made:?}"
    );
    for (action, role, ok, says) in [
        (
            "grant",
            "data-protection",
            true,
            "already data-protection officer; nothing changed",
        ),
        (
            "revoke",
            "data-protection",
            true,
            "is no longer data-protection officer",
        ),
        (
            "revoke",
            "data-protection",
            true,
            "is not data-protection officer; nothing changed",
        ),
        ("grant", "admin", true, "is now administrator"),
        ("grant", "owner", false, "--role"),
    ] {
        let (succeeded, printed) = user_role(&db, action, dpo, role);
        assert_eq!(succeeded, ok, "{action} {role}: {printed}");
        assert!(printed.contains(says), "{action} {role}: {printed}");
    }
    let unknown = user_role(&db, "grant", "nobody@example.org", "admin");
    assert!(
        !unknown.0
            && unknown
                .1
                .contains("--email: there is no account for nobody@example.org"),
        "{unknown:?}"
    );
}
