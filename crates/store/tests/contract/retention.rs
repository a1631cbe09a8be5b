//! Retention with the clock passed in: what is past its time goes, what is inside it
//! stays, campaign and event totals do not change, a group's own periods win over the
//! instance's, the preview names exactly what the run then removes, and runs started at
//! the same time on several connections remove everything once and are audited once.

use crate::people::{DAY, event_at, grant, rsvp, rsvp_mail};
use crate::subject_access::{T0, call, campaign, contact};
use barnstorm_domain::event::Channel;
use barnstorm_store::phonebank::{Campaign, CampaignStatus};
use barnstorm_store::retention::{
    GroupRetention, RetentionPlan, RetentionPolicy, RetentionRun, parse_retention_days,
};
use barnstorm_store::{AuditAction, Millis, Store, both_backends, now_millis};

const MONTH: Millis = 30 * DAY;

async fn finished_campaign(store: &Store, group_id: i64, name: &str, people: &[&str]) -> Campaign {
    let phones = ["020 7946 0101", "020 7946 0102", "020 7946 0103"];
    let list: Vec<_> = people
        .iter()
        .zip(phones)
        .enumerate()
        .map(|(n, (first, phone))| contact(n as u64 + 2, phone, first, "Tester", None))
        .collect();
    let c = campaign(store, group_id, name, &list).await;
    store
        .set_campaign_status(c.id, CampaignStatus::Live, None)
        .await
        .unwrap();
    c
}

async fn finish(store: &Store, c: &Campaign) {
    store
        .set_campaign_status(c.id, CampaignStatus::Finished, None)
        .await
        .unwrap();
}

/// Outcome counts, survey totals, conversations, list size and contacts called.
async fn totals(store: &Store, c: &Campaign) -> String {
    let s = store.campaign_stats(c.id, T0).await.unwrap();
    format!(
        "{:?} {:?} {} {} {}",
        s.outcomes, s.survey, s.conversations, s.progress.total, s.progress.called
    )
}

async fn caller(store: &Store, email: &str) -> i64 {
    store
        .create_user(email, "Caller", None, false)
        .await
        .unwrap()
        .id
}

async fn dump(store: &Store) -> String {
    store.dump_everything().await.unwrap().to_lowercase()
}

/// Runs retention at `now` after checking that the preview at `now` lists what it removes.
async fn run_at(store: &Store, policy: &RetentionPolicy, now: Millis) -> RetentionPlan {
    let preview = store.retention_preview(policy, now, None).await.unwrap();
    let RetentionRun::Ran(done) = store.run_retention(policy, now).await.unwrap() else {
        panic!("the first run of an hour runs");
    };
    assert_eq!(
        done, preview,
        "the preview at {now} is what the run removed"
    );
    done
}

async fn past_data_goes_and_the_rest_stays(store: Store) {
    let policy = RetentionPolicy::default();
    let start = now_millis();
    let group_id = crate::people::group(&store, "Leeds").await;
    let ann = caller(&store, "ann@example.org").await;
    let spring = finished_campaign(&store, group_id, "Spring", &["Samwise", "Sallyanne"]).await;
    let summer = finished_campaign(&store, group_id, "Summer", &["Carol"]).await;
    call(&store, &spring, ann, T0, "spoke").await;
    call(&store, &spring, ann, T0 + 60_000, "no_answer").await;
    call(&store, &summer, ann, T0, "spoke").await;
    finish(&store, &spring).await;
    let before = totals(&store, &spring).await;

    let soon = event_at(&store, group_id, start + 3 * DAY).await;
    let later = event_at(&store, group_id, start + 60 * DAY).await;
    let silent = rsvp(soon.id, "quiet@example.org", &[]);
    let quiet = store.create_rsvp(&silent, &rsvp_mail).await.unwrap();
    let keen = rsvp(soon.id, "keen@example.org", &[Channel::Email]);
    store.create_rsvp(&keen, &rsvp_mail).await.unwrap();
    let late = rsvp(later.id, "late@example.org", &[]);
    store.create_rsvp(&late, &rsvp_mail).await.unwrap();
    store
        .set_attended(soon.id, quiet.id, Some(true))
        .await
        .unwrap();
    let counts_before = store.rsvp_counts(soon.id).await.unwrap();

    let nothing = run_at(&store, &policy, start + 89 * DAY).await;
    assert_eq!(
        nothing.contacts() + nothing.rsvps(),
        0,
        "inside every period"
    );
    assert!(dump(&store).await.contains("walking the dog"));

    let lists = run_at(&store, &policy, start + 91 * DAY).await;
    assert_eq!(
        lists
            .campaigns
            .iter()
            .map(|c| (c.campaign_id, c.contacts))
            .collect::<Vec<_>>(),
        [(spring.id, 2)],
        "only the finished campaign, 90 days after it finished"
    );
    let after = dump(&store).await;
    for gone in ["samwise", "sallyanne", "walking the dog"] {
        assert!(!after.contains(gone), "{gone:?} outlived the call list");
    }
    assert!(after.contains("carol"), "a live campaign keeps its list");
    assert_eq!(totals(&store, &spring).await, before, "the totals stay");

    let rsvps = run_at(&store, &policy, start + 370 * DAY).await;
    assert_eq!(
        rsvps
            .events
            .iter()
            .map(|e| (e.event_id, e.rsvps))
            .collect::<Vec<_>>(),
        [(soon.id, 2)],
        "the event that ended a year ago, not the later one"
    );
    assert_eq!(store.rsvp_counts(soon.id).await.unwrap(), counts_before);
    let attendees = store.attendees(soon.id).await.unwrap();
    assert_eq!(attendees.len(), 2, "the attendance list keeps its length");
    assert!(
        attendees
            .iter()
            .all(|a| a.name.is_empty() && a.email.is_empty())
    );
    assert_eq!(
        attendees
            .iter()
            .filter(|a| a.attended == Some(true))
            .count(),
        1
    );
    assert!(
        store
            .rsvp_by_token(&silent.manage_token)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.attendees(later.id).await.unwrap()[0].name, "late");
    assert_eq!(rsvps.supporters, Some(0), "not silent for two years yet");

    let two_years = run_at(&store, &policy, start + 25 * MONTH).await;
    assert_eq!(
        two_years.supporters,
        Some(1),
        "the supporter without consent goes; the consenting one and the one whose RSVP was still kept stay"
    );
    let kept = |email: &'static str| {
        let store = store.clone();
        async move { store.supporter_by_email(email).await.unwrap().is_some() }
    };
    assert!(!kept("quiet@example.org").await);
    assert!(kept("keen@example.org").await);
    assert!(kept("late@example.org").await);
    assert!(
        two_years.audit_entries.unwrap() > 0,
        "entries from two years ago"
    );
    let audit = store.recent_audit(1000).await.unwrap();
    assert!(
        audit.iter().all(|e| e.at > start + MONTH - 1),
        "older entries are gone"
    );
    let runs: Vec<_> = audit
        .iter()
        .filter(|e| e.action == AuditAction::RetentionRun)
        .collect();
    assert_eq!(
        runs.len(),
        4,
        "every run is audited once and the audit keeps them"
    );
    assert_eq!(
        runs[0].detail,
        "0 contacts, 1 RSVPs, 1 supporters, ".to_owned()
            + &format!("{} audit entries", two_years.audit_entries.unwrap())
    );
}

async fn concurrent_runs_remove_once_and_audit_once(store: Store) {
    let policy = RetentionPolicy::default();
    let group_id = crate::people::group(&store, "Hull").await;
    let c = finished_campaign(&store, group_id, "Winter", &["Samwise", "Sallyanne", "Sid"]).await;
    finish(&store, &c).await;
    // The start of an hour, so both clocks fall in the same one.
    let now = (now_millis() + 100 * DAY) / 3_600_000 * 3_600_000;
    let (a, b) = tokio::join!(
        store.run_retention(&policy, now),
        store.run_retention(&policy, now + 1000)
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    let ran: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            RetentionRun::Ran(plan) => Some(plan.contacts()),
            RetentionRun::AlreadyRan => None,
        })
        .collect();
    assert_eq!(
        ran,
        [3],
        "one run removes the list, the other finds the hour taken"
    );
    let audited = store
        .recent_audit(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == AuditAction::RetentionRun)
        .count();
    assert_eq!(audited, 1);
    let (ran_at, summary) = store.last_retention_run().await.unwrap().unwrap();
    assert!(ran_at == now || ran_at == now + 1000);
    assert_eq!(
        summary,
        "3 contacts, 0 RSVPs, 0 supporters, 0 audit entries"
    );
    let next_hour = store.run_retention(&policy, now + 3_600_000).await.unwrap();
    assert!(
        matches!(&next_hour, RetentionRun::Ran(plan) if plan.contacts() == 0),
        "the next hour runs and finds nothing left: {next_hour:?}"
    );
}

async fn a_groups_own_period_wins(store: Store) {
    let policy = RetentionPolicy::default();
    let start = now_millis();
    let brief = crate::people::group(&store, "Brief").await;
    let usual = crate::people::group(&store, "Usual").await;
    store
        .set_group_retention(
            brief,
            &GroupRetention {
                contact_days: Some(10),
                rsvp_days: Some(30),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .group_retention(brief)
            .await
            .unwrap()
            .effective(&policy),
        RetentionPolicy {
            contact_days: 10,
            rsvp_days: 30,
            ..policy
        }
    );
    assert_eq!(
        store.group_retention(usual).await.unwrap(),
        GroupRetention::default()
    );
    let short = finished_campaign(&store, brief, "Short", &["Samwise"]).await;
    let long = finished_campaign(&store, usual, "Long", &["Sallyanne"]).await;
    finish(&store, &short).await;
    finish(&store, &long).await;
    let brief_event = event_at(&store, brief, start + DAY).await;
    let usual_event = event_at(&store, usual, start + DAY).await;
    for (event, email) in [
        (&brief_event, "b@example.org"),
        (&usual_event, "u@example.org"),
    ] {
        let new = rsvp(event.id, email, &[]);
        let made = store.create_rsvp(&new, &rsvp_mail).await.unwrap();
        grant(&store, made.supporter_id, event.group_id, Channel::Email).await;
    }

    let now = start + 40 * DAY;
    let mine = store
        .retention_preview(&policy, now, Some(brief))
        .await
        .unwrap();
    assert_eq!(mine.supporters, None, "supporters belong to the instance");
    assert_eq!(
        store
            .retention_preview(&policy, now, Some(usual))
            .await
            .unwrap(),
        RetentionPlan {
            supporters: None,
            audit_entries: None,
            ..RetentionPlan::default()
        },
        "the other group has nothing due"
    );
    let done = run_at(&store, &policy, now).await;
    assert_eq!(done.campaigns, mine.campaigns);
    assert_eq!(done.events, mine.events);
    assert_eq!(
        (done.campaigns.len(), done.campaigns[0].campaign_id),
        (1, short.id)
    );
    assert_eq!(
        (done.events.len(), done.events[0].event_id),
        (1, brief_event.id)
    );
    let after = dump(&store).await;
    assert!(!after.contains("samwise") && after.contains("sallyanne"));
    assert!(
        store.attendees(brief_event.id).await.unwrap()[0]
            .email
            .is_empty()
    );
    assert_eq!(
        store.attendees(usual_event.id).await.unwrap()[0].email,
        "u@example.org"
    );
}

#[test]
fn retention_days_are_checked() {
    assert_eq!(parse_retention_days("Call lists", " 30 "), Ok(Some(30)));
    assert_eq!(parse_retention_days("Call lists", ""), Ok(None));
    for bad in ["0", "3651", "ninety", "-5", "1.5"] {
        let error = parse_retention_days("Call lists", bad).unwrap_err();
        assert!(
            error.starts_with("Call lists:") && error.contains(bad),
            "{error}"
        );
    }
}

both_backends! {
    retention_periods => past_data_goes_and_the_rest_stays,
    retention_concurrent_runs => concurrent_runs_remove_once_and_audit_once,
    retention_group_override => a_groups_own_period_wins,
}
