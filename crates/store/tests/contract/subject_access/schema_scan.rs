//! The schema scan: every table and column of the live schema is listed here with
//! whether it holds personal data and how export and erasure cover it. A table or column
//! added without an entry fails the test, naming it, so nobody adds personal data that a
//! subject-access export or an erasure would miss.

use barnstorm_store::{Store, both_backends};
use std::collections::BTreeSet;

/// One table: how erasure treats it, its personal columns (all exported by
/// `find_person` when the row is about the person) and the rest.
struct Table {
    name: &'static str,
    erasure: &'static str,
    personal: &'static [&'static str],
    other: &'static [&'static str],
}

const DATA_MAP: &[Table] = &[
    Table {
        name: "api_tokens",
        erasure: "Deleted",
        personal: &["user_id", "token_hash", "label"],
        other: &["id", "created_at", "last_used_at", "revoked_at"],
    },
    Table {
        name: "audit_log",
        erasure: "Entries naming them: subject and detail replaced, the ids about them cleared",
        personal: &[
            "actor_user_id",
            "subject",
            "detail",
            "contact_id",
            "subject_user_id",
            "supporter_id",
        ],
        other: &["id", "at", "action", "group_id", "campaign_id"],
    },
    Table {
        name: "call_attempts",
        erasure: "Kept for totals; notes cleared, answers kept for survey totals",
        personal: &["contact_id", "caller_id", "notes", "answers"],
        other: &[
            "id",
            "campaign_id",
            "lease_id",
            "outcome",
            "conversation",
            "callback_at",
            "next_available_at",
            "idempotency_key",
            "created_at",
            "do_not_call",
        ],
    },
    Table {
        name: "call_records",
        erasure: "Kept for totals: they hold no number or words, and the contact and caller they point at are anonymised",
        personal: &["contact_id", "caller_id"],
        other: &[
            "id",
            "campaign_id",
            "lease_id",
            "session_id",
            "node",
            "dialled_at",
            "ringing_at",
            "answered_at",
            "ended_at",
            "hung_up_by",
            "sip_status",
            "cause",
            "proposed_outcome",
        ],
    },
    Table {
        name: "caller_phones",
        erasure: "Deleted",
        personal: &["user_id", "phone"],
        other: &["updated_at"],
    },
    Table {
        name: "call_campaigns",
        erasure: "Not about the subject: the creator is an account id, set to none when it is deleted",
        personal: &["created_by"],
        other: &[
            "id",
            "group_id",
            "name",
            "briefing",
            "script",
            "survey",
            "outcomes",
            "calling_hours",
            "max_attempts",
            "min_minutes_between_attempts",
            "lease_seconds",
            "skip_limit",
            "leaderboard",
            "status",
            "created_at",
            "updated_at",
            "pace_per_minute",
            "pace_per_hour",
            "do_not_call_per_hour",
            "shown_to_callers",
            "finished_at",
            "bridge_caller_id",
            "bridge_call_me",
            "bridge_dial_in",
            "bridge_tel_links",
        ],
    },
    Table {
        name: "campaign_callers",
        erasure: "Deleted (kept for an account that made calls)",
        personal: &["user_id", "flag_reason", "suspended_reason"],
        other: &[
            "campaign_id",
            "flagged_at",
            "joined_at",
            "suspended_at",
            "removed_at",
            "pace_refusals",
            "pace_refused_since",
            "suspended_by",
            "on_break_since",
        ],
    },
    Table {
        name: "campaign_invite_signups",
        erasure: "Deleted",
        personal: &["user_id"],
        other: &["invite_id", "created_at"],
    },
    Table {
        name: "campaign_invites",
        erasure: "Not about the subject: the creator is an account id",
        personal: &["created_by"],
        other: &[
            "id",
            "campaign_id",
            "code",
            "created_at",
            "expires_at",
            "max_uses",
            "uses",
            "revoked_at",
            "code_hashed",
            "max_new_accounts_per_hour",
        ],
    },
    Table {
        name: "consents",
        erasure: "Deleted",
        personal: &[
            "supporter_id",
            "source",
            "source_detail",
            "collected_by",
            "withdrawn_how",
        ],
        other: &[
            "group_id",
            "channel",
            "granted_at",
            "withdrawn_at",
            "wording_id",
            "privacy_notice_id",
        ],
    },
    Table {
        name: "consent_wordings",
        erasure: "Not about the subject: the words a form showed, shared by everyone who ticked it; exported with their consents",
        personal: &[],
        other: &["id", "wording", "first_shown_at"],
    },
    Table {
        name: "contacts",
        erasure: "Anonymised: the calls counted in totals point at it",
        personal: &[
            "phone",
            "other_phone",
            "first_name",
            "last_name",
            "email",
            "postcode",
            "extra",
            "source_line",
        ],
        other: &[
            "id",
            "campaign_id",
            "state",
            "priority",
            "available_at",
            "attempts",
            "callback_at",
            "lease_id",
            "last_outcome",
            "last_called_at",
            "created_at",
            "import_job_id",
        ],
    },
    Table {
        name: "privacy_notices",
        erasure: "Not about the subject: the publisher is an account id, set to none when it is deleted",
        personal: &["created_by"],
        other: &["id", "body", "created_at"],
    },
    Table {
        name: "do_not_call",
        erasure: "Deleted; a keyed digest suppresses the number. The caller or organiser who added it is an account id, set to none when the account is deleted",
        personal: &["phone", "added_by"],
        other: &["group_id", "reason", "created_at", "campaign_id"],
    },
    Table {
        name: "email_audience",
        erasure: "Deleted",
        personal: &["supporter_id", "latitude", "longitude"],
        other: &["group_id", "cell", "reaches_subgroups"],
    },
    Table {
        name: "email_suppressions",
        erasure: "Deleted; a keyed digest suppresses the address",
        personal: &["email"],
        other: &["reason", "created_at"],
    },
    Table {
        name: "erased_subjects",
        erasure: "Keyed digests only, not reversible without the key",
        personal: &["digest"],
        other: &["kind", "erased_at"],
    },
    Table {
        name: "event_breakouts",
        erasure: "Not personal",
        personal: &[],
        other: &["id", "event_id", "name", "facilitator", "created_at"],
    },
    Table {
        name: "event_shifts",
        erasure: "Not personal",
        personal: &[],
        other: &["id", "event_id", "starts_at", "ends_at", "capacity"],
    },
    Table {
        name: "events",
        erasure: "Not about the subject: the host is an account id, set to none when it is deleted",
        personal: &["host_user_id"],
        other: &[
            "id",
            "group_id",
            "parent_event_id",
            "breakout_id",
            "kind",
            "title",
            "description",
            "starts_at",
            "ends_at",
            "time_zone",
            "capacity",
            "postcode",
            "address",
            "latitude",
            "longitude",
            "location_precision",
            "address_after_rsvp",
            "visibility",
            "online_url",
            "accessibility",
            "campaign_id",
            "status",
            "status_note",
            "created_at",
            "updated_at",
            "deleted_at",
        ],
    },
    Table {
        name: "group_invites",
        erasure: "Deleted (matched by email)",
        personal: &["email", "invited_by", "accepted_by"],
        other: &[
            "id",
            "group_id",
            "role",
            "token_hash",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ],
    },
    Table {
        name: "groups",
        erasure: "Not personal",
        personal: &[],
        other: &[
            "id",
            "parent_id",
            "slug",
            "name",
            "kind",
            "description",
            "created_at",
            "event_approval",
            "require_two_factor",
            "contact_retention_days",
            "rsvp_retention_days",
        ],
    },
    Table {
        name: "import_jobs",
        erasure: "Not about the subject: the uploader is an account id",
        personal: &["created_by"],
        other: &[
            "id",
            "campaign_id",
            "file_name",
            "status",
            "rows_read",
            "imported",
            "duplicates",
            "suppressed",
            "rejected",
            "warnings",
            "headers",
            "error",
            "created_at",
            "finished_at",
        ],
    },
    Table {
        name: "import_rejections",
        erasure: "Deleted when the reason quotes them or the rejected row's cells hold them",
        personal: &["reason", "fields"],
        other: &["job_id", "kind", "line", "column_name"],
    },
    Table {
        name: "instance_secrets",
        erasure: "Not personal",
        personal: &[],
        other: &["name", "value", "created_at"],
    },
    Table {
        name: "leases",
        erasure: "Kept for a contact with no identity (who was shown them); an open lease is released",
        personal: &["contact_id", "caller_id"],
        other: &[
            "id",
            "campaign_id",
            "claimed_at",
            "expires_at",
            "released_at",
            "outcome_at",
        ],
    },
    Table {
        name: "login_failures",
        erasure: "Deleted (key holds the address)",
        personal: &["key"],
        other: &["id", "at"],
    },
    Table {
        name: "memberships",
        erasure: "Deleted (kept for an account that made calls)",
        personal: &["user_id"],
        other: &["group_id", "role", "created_at", "trusted_host"],
    },
    Table {
        name: "outbox",
        erasure: "Deleted (matched by address)",
        personal: &[
            "to_addr",
            "subject",
            "body_text",
            "headers",
            "attachments",
            "last_error",
        ],
        other: &[
            "id",
            "sender_name",
            "status",
            "attempts",
            "next_attempt_at",
            "locked_until",
            "created_at",
            "sent_at",
        ],
    },
    Table {
        name: "outreach_messages",
        erasure: "Not about recipients: the sender is an account id, set to none when it is deleted",
        personal: &["sender_user_id"],
        other: &[
            "id",
            "event_id",
            "group_id",
            "subject",
            "body",
            "radius_km",
            "recipients",
            "created_at",
        ],
    },
    Table {
        name: "outreach_recipients",
        erasure: "Deleted",
        personal: &["supporter_id"],
        other: &["group_id", "last_sent_at"],
    },
    Table {
        name: "passkey_registrations",
        erasure: "Deleted",
        personal: &["user_id", "state"],
        other: &["expires_at"],
    },
    Table {
        name: "passkeys",
        erasure: "Deleted",
        personal: &["user_id", "credential_id", "name", "credential"],
        other: &["id", "created_at", "last_used_at"],
    },
    Table {
        name: "phone_sessions",
        erasure: "Deleted with the account; kept (ids only, ended) for an account that made calls",
        personal: &["caller_id"],
        other: &[
            "id",
            "campaign_id",
            "pin",
            "join_kind",
            "node",
            "started_at",
            "joined_at",
            "ended_at",
            "end_reason",
        ],
    },
    Table {
        name: "postcodes",
        erasure: "Not personal",
        personal: &[],
        other: &["postcode", "latitude", "longitude"],
    },
    Table {
        name: "rate_limit_counters",
        erasure: "Deleted (key holds the address)",
        personal: &["key"],
        other: &["window_started_at", "hits"],
    },
    Table {
        name: "recovery_codes",
        erasure: "Deleted",
        personal: &["user_id", "code_hash"],
        other: &["id", "created_at", "used_at"],
    },
    Table {
        name: "retention_runs",
        erasure: "Not personal: counts per kind",
        personal: &[],
        other: &[
            "slot",
            "ran_at",
            "contacts",
            "rsvps",
            "supporters",
            "audit_entries",
        ],
    },
    Table {
        name: "rsvp_links",
        erasure: "Deleted with the RSVP",
        personal: &["rsvp_id", "token_hash"],
        other: &["created_at"],
    },
    Table {
        name: "rsvp_notices",
        erasure: "Deleted",
        personal: &["rsvp_id"],
        other: &["kind", "queued_at"],
    },
    Table {
        name: "rsvps",
        erasure: "Deleted",
        personal: &[
            "supporter_id",
            "manage_token_hash",
            "feedback_text",
            "attended",
            "feedback_rating",
        ],
        other: &[
            "id",
            "event_id",
            "shift_id",
            "status",
            "created_at",
            "updated_at",
            "confirmation_mailed_at",
        ],
    },
    Table {
        name: "second_steps",
        erasure: "Deleted",
        personal: &["token_hash", "user_id", "next_path", "passkey_state"],
        other: &["created_at", "expires_at"],
    },
    Table {
        name: "sessions",
        erasure: "Deleted",
        personal: &["token_hash", "user_id", "csrf_token"],
        other: &["created_at", "expires_at"],
    },
    Table {
        name: "sign_in_links",
        erasure: "Deleted",
        personal: &["token_hash", "user_id"],
        other: &["created_at", "expires_at", "used_at"],
    },
    Table {
        name: "supporters",
        erasure: "Deleted",
        personal: &[
            "email",
            "name",
            "postcode",
            "latitude",
            "longitude",
            "phone",
            "unsubscribe_token",
        ],
        other: &["id", "created_at", "updated_at"],
    },
    Table {
        name: "totp_authenticators",
        erasure: "Deleted",
        personal: &["user_id", "secret"],
        other: &["created_at", "confirmed_at", "last_used_step"],
    },
    Table {
        name: "tps_numbers",
        erasure: "Deleted; a keyed digest suppresses the number",
        personal: &["phone"],
        other: &["list", "source", "imported_at"],
    },
    Table {
        name: "users",
        erasure: "Deleted, or anonymised when they made calls",
        personal: &["email", "name", "password_hash"],
        other: &[
            "id",
            "is_admin",
            "data_protection",
            "created_at",
            "email_verified_at",
        ],
    },
];

async fn every_column_of_the_schema_is_covered(store: Store) {
    let live: BTreeSet<(String, String)> =
        store.schema_columns().await.unwrap().into_iter().collect();
    let listed: BTreeSet<(String, String)> = DATA_MAP
        .iter()
        .flat_map(|t| {
            assert!(
                !t.erasure.is_empty(),
                "{} says how erasure covers it",
                t.name
            );
            t.personal
                .iter()
                .chain(t.other)
                .map(|c| (t.name.to_owned(), (*c).to_owned()))
        })
        .collect();
    let unlisted: Vec<String> = live
        .difference(&listed)
        .map(|(t, c)| format!("{t}.{c}"))
        .collect();
    assert!(
        unlisted.is_empty(),
        "not in the data map of crates/store/tests/contract/subject_access/schema_scan.rs          (say whether each is personal and how export and erasure cover it): {unlisted:?}"
    );
    let gone: Vec<String> = listed
        .difference(&live)
        .map(|(t, c)| format!("{t}.{c}"))
        .collect();
    assert!(gone.is_empty(), "listed but not in the schema: {gone:?}");
}

both_backends! {
    every_column_of_the_schema_is_covered => every_column_of_the_schema_is_covered,
}
